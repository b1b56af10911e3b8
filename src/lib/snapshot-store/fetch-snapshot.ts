import fs from "node:fs/promises";
import path from "node:path";
import { OperationFailed } from "../errors";
import { directoryDigest } from "../snapshot/digest";
import { DIRECTORY_MODE, FILE_MODE, ensureDirectory, exists, fsyncPath, removeQuietly } from "../snapshot/durable-fs";
import { COMPANION_KINDS, SnapshotLayout, snapshotLayout } from "../snapshot/layout";
import { SnapshotManifest, isManifest, parseManifest } from "../snapshot/manifest";
import { removeStalePartials } from "../snapshot/take-snapshot";
import type { StoreObjects } from "./objects";
import { SnapshotPart, corruptedObject, hashStream, manifestName, snapshotParts } from "./parts";

export interface FetchedSnapshot {
  readonly manifest: SnapshotManifest;
  /** DIR/NAME.dump or DIR/NAME, where the snapshot now is. */
  readonly path: string;
  readonly manifestPath: string;
  readonly manifestUrl: string;
  readonly bytes: number;
}

/** The manifest of a snapshot in the store; undefined when the store has no snapshot of that name. */
export async function readStoredManifest(
  objects: StoreObjects,
  name: string,
): Promise<{ manifest: SnapshotManifest; text: Buffer; url: string } | undefined> {
  const url = objects.url(manifestName(name));
  const body = await objects.get(manifestName(name));
  if (body === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks);
  const manifest = parseManifest(text.toString("utf8"), url);
  if (!isManifest(manifest)) throw new OperationFailed(`cannot use the snapshot in the store: ${manifest.problem}`);
  if (manifest.name !== name) {
    throw new OperationFailed(`${url} is the manifest of snapshot ${manifest.name}, not of ${name}; not used`);
  }
  return { manifest, text, url };
}

/**
 * Downloads snapshot NAME from the store into outDir the way a snapshot is taken: every file under a hidden
 * partial name, hashed as it is written and compared with the manifest; then renamed into place, the manifest
 * last. An object whose sha256 differs is refused, naming it, and nothing is left behind.
 */
export async function fetchSnapshot(
  objects: StoreObjects,
  name: string,
  outDir: string,
  signal?: AbortSignal,
): Promise<FetchedSnapshot> {
  const stored = await readStoredManifest(objects, name);
  if (stored === undefined) {
    throw new OperationFailed(
      `snapshot ${name} is neither in ${outDir} nor in the store (${objects.url(manifestName(name))} does not exist): ` +
        "check the name with `runbook history --stack STACK`",
    );
  }
  const { manifest } = stored;
  const parts = snapshotParts(manifest);
  if (manifest.format === "directory") {
    const digest = directoryDigest(parts.filter((p) => p.relative.includes("/")).map(asFileDigest));
    if (digest.sha256 !== manifest.sha256) {
      throw new OperationFailed(
        `${stored.url} is inconsistent: its files' sha256 do not add up to its sha256; not used`,
      );
    }
  }
  await ensureDirectory(outDir);
  const layout = snapshotLayout(outDir, name);
  const finalPath = layout.finalPath(manifest.format);
  const partialOf = partialPaths(layout, manifest);
  await removeStalePartials(layout);
  try {
    if (manifest.format === "directory") await fs.mkdir(layout.partialPath, { mode: DIRECTORY_MODE });
    for (const part of parts) {
      signal?.throwIfAborted();
      await download(objects, part, partialOf(part.relative));
    }
    await fs.writeFile(layout.partialManifestPath, stored.text, { mode: FILE_MODE });
    await fsyncPath(layout.partialManifestPath);
    if (manifest.format === "directory") await fsyncPath(layout.partialPath);
    // Commit: the dump and companions first, the manifest last, as takeSnapshot does.
    if (await exists(finalPath)) throw new OperationFailed(`${finalPath} appeared while the snapshot was downloaded`);
    await fs.rename(layout.partialPath, finalPath);
    for (const part of parts.filter((p) => !p.relative.includes("/") && p.relative !== path.basename(finalPath))) {
      await fs.rename(partialOf(part.relative), path.join(outDir, part.relative));
    }
    await fs.rename(layout.partialManifestPath, layout.manifestPath);
    await fsyncPath(outDir);
  } catch (err) {
    await removeQuietly(layout.partialPath);
    await removeQuietly(layout.partialManifestPath);
    for (const kind of COMPANION_KINDS) await removeQuietly(layout.companionPartialPath(kind));
    throw err;
  }
  return {
    manifest,
    path: finalPath,
    manifestPath: layout.manifestPath,
    manifestUrl: stored.url,
    bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
  };
}

function asFileDigest(part: SnapshotPart): { name: string; sha256: string; bytes: number } {
  return { name: part.relative.slice(part.relative.indexOf("/") + 1), sha256: part.sha256, bytes: part.bytes };
}

/** Where each part is written before the commit: inside the partial dump directory, or its own partial name. */
function partialPaths(layout: SnapshotLayout, manifest: SnapshotManifest): (relative: string) => string {
  const dumpName = path.basename(layout.finalPath(manifest.format));
  const companionByName = new Map(
    (manifest.companions ?? []).map((c) => [path.basename(c.path), layout.companionPartialPath(c.kind)]),
  );
  return (relative) => {
    if (relative.includes("/")) return path.join(layout.partialPath, relative.slice(dumpName.length + 1));
    if (relative === dumpName) return layout.partialPath;
    const companion = companionByName.get(relative);
    if (companion === undefined) throw new OperationFailed(`no place for ${relative} of snapshot ${layout.name}`);
    return companion;
  };
}

/** Writes one object to `target` (0600) while hashing it; refuses it when it is not what the manifest records. */
async function download(objects: StoreObjects, part: SnapshotPart, target: string): Promise<void> {
  const url = objects.url(part.relative);
  const body = await objects.get(part.relative);
  if (body === undefined) throw new OperationFailed(`${url} is missing from the store, though its manifest lists it`);
  const handle = await fs.open(target, "wx", FILE_MODE);
  let found: { sha256: string; bytes: number };
  try {
    found = await hashStream(body, async (chunk) => {
      await handle.write(chunk);
    });
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (found.sha256 !== part.sha256 || found.bytes !== part.bytes) throw corruptedObject(url, found, part);
}
