import fs from "node:fs/promises";
import path from "node:path";
import { isManifest, readManifest, SnapshotManifest } from "../snapshot/manifest";
import { listStoredSnapshots } from "../snapshot-store/list-snapshots";
import { withStoreObjects } from "../snapshot-store/open-store";
import type { StoreSettings } from "../snapshot-store/settings";
import type { SnapshotRecord } from "./history";

/**
 * The local snapshots with every one the store holds for this stack: those missing here are listed at the path
 * restore downloads them to (storeOnly), and each stored one names its manifest's URL. A store that cannot be
 * listed, and manifests in it that cannot be read, are returned as problems.
 */
export async function withStoredSnapshots(
  local: readonly SnapshotRecord[],
  dir: string,
  stackName: string,
  store: { readonly settings: StoreSettings; readonly env: NodeJS.ProcessEnv },
): Promise<{ records: SnapshotRecord[]; problems: string[] }> {
  let listed: Awaited<ReturnType<typeof listStoredSnapshots>>;
  try {
    listed = await withStoreObjects(store.settings, store.env, listStoredSnapshots);
  } catch (err) {
    // The local snapshots are still worth showing; the store's failure is reported with them.
    return { records: [...local], problems: [`the snapshot store could not be listed: ${(err as Error).message}`] };
  }
  const byName = new Map(local.map((r) => [r.name, r]));
  for (const { manifest, url } of listed.snapshots) {
    if (!forStack(manifest, stackName)) continue;
    const here = byName.get(manifest.name);
    byName.set(
      manifest.name,
      here !== undefined
        ? { ...here, stored: url }
        : {
            ...record(manifest, path.join(dir, path.basename(manifest.path)), url, path.resolve(dir)),
            stored: url,
            storeOnly: true,
          },
    );
  }
  const records = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { records, problems: listed.problems };
}

/** Every snapshot manifest in the stack's snapshot directory, taken for this stack. */
export async function readSnapshots(dir: string, stackName: string): Promise<SnapshotRecord[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out: SnapshotRecord[] = [];
  for (const entry of entries.filter((e) => e.endsWith(".manifest.json")).sort()) {
    const manifestPath = path.join(dir, entry);
    const manifest = await readManifest(manifestPath);
    if (!isManifest(manifest) || !forStack(manifest, stackName)) continue;
    out.push(record(manifest, manifest.path, manifestPath));
  }
  return out;
}

function forStack(manifest: SnapshotManifest, stackName: string): boolean {
  const forStackName = manifest.context?.stack;
  return forStackName === undefined || forStackName === stackName;
}

/** A manifest as history shows it; companions moved to `companionDir` when the snapshot is not here yet. */
function record(
  manifest: SnapshotManifest,
  snapshotPath: string,
  manifestPath: string,
  companionDir?: string,
): SnapshotRecord {
  return {
    name: manifest.name,
    path: snapshotPath,
    manifestPath,
    sha256: manifest.sha256,
    createdAt: manifest.createdAt,
    schemaVersion: manifest.schemaVersion,
    ...(manifest.context === undefined ? {} : { context: manifest.context }),
    ...(manifest.companions === undefined
      ? {}
      : {
          companions: manifest.companions.map((c) => ({
            kind: c.kind,
            path: companionDir === undefined ? c.path : path.join(companionDir, path.basename(c.path)),
          })),
        }),
  };
}
