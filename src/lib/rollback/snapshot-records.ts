import fs from "node:fs/promises";
import path from "node:path";
import { isManifest, readManifest } from "../snapshot/manifest";
import type { SnapshotRecord } from "./history";

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
    if (!isManifest(manifest)) continue;
    const forStack = manifest.context?.stack;
    if (forStack !== undefined && forStack !== stackName) continue;
    out.push({
      name: manifest.name,
      path: manifest.path,
      manifestPath,
      sha256: manifest.sha256,
      createdAt: manifest.createdAt,
      schemaVersion: manifest.schemaVersion,
      ...(manifest.context === undefined ? {} : { context: manifest.context }),
      ...(manifest.companions === undefined
        ? {}
        : { companions: manifest.companions.map((c) => ({ kind: c.kind, path: c.path })) }),
    });
  }
  return out;
}
