import path from "node:path";
import type { SnapshotOutcome } from "../snapshot/take-snapshot";
import { withStoreObjects } from "./open-store";
import type { StoreSettings } from "./settings";
import { StoredSnapshot, uploadSnapshot } from "./upload-snapshot";

/**
 * After a snapshot's local commit, keeps it in the store too (uploaded and read back). A store that is the
 * snapshot directory itself has nothing to do: that is the default, snapshots on this machine only.
 */
export async function keepInStore(
  settings: StoreSettings,
  outcome: SnapshotOutcome,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<StoredSnapshot | undefined> {
  const outDir = path.dirname(outcome.manifestPath);
  if (settings.kind === "directory" && path.resolve(settings.dir) === outDir) return undefined;
  return withStoreObjects(settings, env, (objects) =>
    uploadSnapshot(objects, { outDir, manifest: outcome.manifest, manifestPath: outcome.manifestPath }, signal),
  );
}
