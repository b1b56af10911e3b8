import { BucketClient } from "../s3/client";
import { DirectoryObjects } from "./directory-objects";
import type { StoreObjects } from "./objects";
import type { StoreSettings } from "./settings";

export function openStoreObjects(settings: StoreSettings, env: NodeJS.ProcessEnv): StoreObjects {
  if (settings.kind === "directory") return new DirectoryObjects(settings.dir);
  return new BucketClient(settings, env);
}

/** Runs work with the store open and closes it after (the S3 client keeps sockets open). */
export async function withStoreObjects<T>(
  settings: StoreSettings,
  env: NodeJS.ProcessEnv,
  work: (objects: StoreObjects) => Promise<T>,
): Promise<T> {
  const objects = openStoreObjects(settings, env);
  try {
    return await work(objects);
  } finally {
    objects.destroy();
  }
}
