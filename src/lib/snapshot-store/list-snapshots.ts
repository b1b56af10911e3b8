import { MANIFEST_SUFFIX } from "../snapshot/layout";
import type { SnapshotManifest } from "../snapshot/manifest";
import { readStoredManifest } from "./fetch-snapshot";
import type { StoreObjects } from "./objects";

export interface StoredManifest {
  readonly manifest: SnapshotManifest;
  readonly url: string;
}

/**
 * Every snapshot the store holds, by its manifest (uploaded last, so each one listed is complete), oldest name
 * first. A manifest that cannot be read is reported in `problems`, not skipped silently.
 */
export async function listStoredSnapshots(
  objects: StoreObjects,
): Promise<{ snapshots: StoredManifest[]; problems: string[] }> {
  const names = (await objects.listTopLevel())
    .filter((key) => key.endsWith(MANIFEST_SUFFIX))
    .map((key) => key.slice(0, -MANIFEST_SUFFIX.length))
    .sort();
  const snapshots: StoredManifest[] = [];
  const problems: string[] = [];
  for (const name of names) {
    try {
      const stored = await readStoredManifest(objects, name);
      if (stored !== undefined) snapshots.push({ manifest: stored.manifest, url: stored.url });
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return { snapshots, problems };
}
