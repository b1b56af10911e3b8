import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { OperationFailed } from "../errors";
import type { SnapshotManifest } from "../snapshot/manifest";
import type { StoreObjects } from "./objects";
import { SnapshotPart, corruptedObject, hashStream, manifestName, snapshotParts } from "./parts";

export interface StoredSnapshot {
  /** The manifest's object: what `runbook history` lists and `runbook restore --store` fetches by name. */
  readonly manifestUrl: string;
  readonly objects: number;
  readonly bytes: number;
  /** true when the store already held this very manifest (a re-run): nothing was uploaded. */
  readonly alreadyStored: boolean;
}

/**
 * Uploads a committed snapshot (its dump, companions, then its manifest) from outDir to the store, reading every
 * object back to check its sha256 against the manifest. The manifest goes last and only once everything else
 * has been checked, so a snapshot the store lists is complete. A store already holding the same manifest is
 * left as it is.
 */
export async function uploadSnapshot(
  objects: StoreObjects,
  snapshot: { readonly outDir: string; readonly manifest: SnapshotManifest; readonly manifestPath: string },
  signal?: AbortSignal,
): Promise<StoredSnapshot> {
  const manifestText = await fs.readFile(snapshot.manifestPath);
  const manifestPart: SnapshotPart = {
    relative: manifestName(snapshot.manifest.name),
    sha256: createHash("sha256").update(manifestText).digest("hex"),
    bytes: manifestText.length,
  };
  const parts = snapshotParts(snapshot.manifest);
  const total = parts.reduce((sum, p) => sum + p.bytes, manifestPart.bytes);
  const manifestUrl = objects.url(manifestPart.relative);

  const stored = await objects.get(manifestPart.relative);
  if (stored !== undefined) {
    const found = await hashStream(stored);
    if (found.sha256 === manifestPart.sha256) {
      return { manifestUrl, objects: parts.length + 1, bytes: total, alreadyStored: true };
    }
    throw new OperationFailed(
      `${manifestUrl} already exists with other content than ${snapshot.manifestPath}: another snapshot of the ` +
        "same name is in the store; nothing was uploaded. Choose another snapshot name or store prefix",
    );
  }
  for (const part of parts) {
    signal?.throwIfAborted();
    await objects.putFile(part.relative, path.join(snapshot.outDir, part.relative), signal);
  }
  for (const part of parts) await checkObject(objects, part);
  await objects.putFile(manifestPart.relative, snapshot.manifestPath, signal);
  await checkObject(objects, manifestPart);
  return { manifestUrl, objects: parts.length + 1, bytes: total, alreadyStored: false };
}

/** Reads an object back and compares its sha256 with what the manifest records. */
async function checkObject(objects: StoreObjects, part: SnapshotPart): Promise<void> {
  const url = objects.url(part.relative);
  const body = await objects.get(part.relative);
  if (body === undefined) throw new OperationFailed(`${url} is missing right after its upload; the store lost it`);
  const found = await hashStream(body);
  if (found.sha256 !== part.sha256 || found.bytes !== part.bytes) throw corruptedObject(url, found, part);
}
