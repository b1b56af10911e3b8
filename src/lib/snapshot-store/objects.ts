import type { Readable } from "node:stream";
import { BucketClient } from "../s3/client";
import { DirectoryObjects } from "./directory-objects";
import type { StoreSettings } from "./settings";

/** What the snapshot store needs of where it keeps files: a bucket or a directory, addressed by relative names. */
export interface StoreObjects {
  /** How an object is named to the operator: `s3://bucket/prefix/NAME.manifest.json` or a path. */
  url(relative: string): string;
  putFile(relative: string, file: string, signal?: AbortSignal): Promise<void>;
  /** The object's bytes; undefined when there is none. */
  get(relative: string): Promise<Readable | undefined>;
  /** Names directly under the store's root (a snapshot's directory-format files are one level down). */
  listTopLevel(): Promise<string[]>;
  destroy(): void;
}

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
