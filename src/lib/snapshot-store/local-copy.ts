import path from "node:path";
import { exists } from "../snapshot/durable-fs";
import { MANIFEST_SUFFIX, manifestPathFor } from "../snapshot/layout";
import { FetchedSnapshot, fetchSnapshot } from "./fetch-snapshot";
import { withStoreObjects } from "./open-store";
import type { StoreSettings } from "./settings";

/**
 * Makes sure the snapshot named by a path (DIR/NAME.dump, DIR/NAME or DIR/NAME.manifest.json) is on this
 * machine: when its manifest is missing from DIR, snapshot NAME is downloaded from the store into DIR and checked
 * (sha256 of every object). Undefined when the local copy was there already.
 */
export async function fetchIfMissing(
  settings: StoreSettings,
  snapshotPath: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<FetchedSnapshot | undefined> {
  const manifestPath = manifestPathFor(snapshotPath);
  if (await exists(manifestPath)) return undefined;
  const name = path.basename(manifestPath).slice(0, -MANIFEST_SUFFIX.length);
  return withStoreObjects(settings, env, (objects) => fetchSnapshot(objects, name, path.dirname(manifestPath), signal));
}
