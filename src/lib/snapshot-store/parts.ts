import { createHash } from "node:crypto";
import path from "node:path";
import type { Readable } from "node:stream";
import { OperationFailed } from "../errors";
import { MANIFEST_SUFFIX } from "../snapshot/layout";
import type { SnapshotManifest } from "../snapshot/manifest";

/** One file of a snapshot, named relative to the snapshot directory (and to the store's root). */
export interface SnapshotPart {
  readonly relative: string;
  readonly sha256: string;
  readonly bytes: number;
}

export function manifestName(snapshotName: string): string {
  return `${snapshotName}${MANIFEST_SUFFIX}`;
}

/**
 * Every file a snapshot consists of besides its manifest, with the sha256 the manifest records for it: the dump
 * (NAME.dump, or each file of NAME/) and its companions (NAME.secrets.json, NAME.redis.rdb).
 */
export function snapshotParts(manifest: SnapshotManifest): SnapshotPart[] {
  const dumpName = path.basename(manifest.path);
  const dump: SnapshotPart[] =
    manifest.format === "custom"
      ? [{ relative: dumpName, sha256: manifest.sha256, bytes: manifest.bytes }]
      : (manifest.files ?? []).map((f) => ({ relative: `${dumpName}/${f.name}`, sha256: f.sha256, bytes: f.bytes }));
  if (manifest.format === "directory" && dump.length === 0) {
    throw new OperationFailed(`the manifest of ${manifest.name} lists no files of its directory-format dump`);
  }
  const companions = (manifest.companions ?? []).map((c) => ({
    relative: path.basename(c.path),
    sha256: c.sha256,
    bytes: c.bytes,
  }));
  for (const part of [...dump, ...companions]) {
    if (!isPlainRelative(part.relative)) {
      throw new OperationFailed(
        `the manifest of ${manifest.name} names a file '${part.relative}' outside its snapshot`,
      );
    }
  }
  return [...dump, ...companions];
}

/** `NAME.dump`, `NAME/3456.dat.gz`: no absolute path, no `..`, nothing hidden. */
function isPlainRelative(relative: string): boolean {
  const segments = relative.split("/");
  return segments.length <= 2 && segments.every((s) => s !== "" && s !== "." && s !== ".." && !s.startsWith("."));
}

/** sha256 and size of a stream's bytes, handing each chunk to sink first (a file being written), if any. */
export async function hashStream(
  stream: Readable,
  sink?: (chunk: Buffer) => Promise<void>,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    if (sink !== undefined) await sink(buffer);
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** The refusal for an object whose bytes are not those its manifest records. */
export function corruptedObject(
  url: string,
  found: { sha256: string; bytes: number },
  expected: SnapshotPart,
): OperationFailed {
  return new OperationFailed(
    `${url} is corrupted: its sha256 is ${found.sha256} (${found.bytes} bytes), the manifest records ` +
      `${expected.sha256} (${expected.bytes} bytes); the object was changed or damaged in the store, so this ` +
      "snapshot is not used. Restore another snapshot, or re-upload this one from a machine that still has it",
  );
}
