import { createHash, Hash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { Transform, TransformCallback } from "node:stream";

export interface FileDigest {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface SnapshotDigest {
  readonly sha256: string;
  readonly bytes: number;
  /** Per-file digests of a directory-format snapshot, sorted by name; absent for a single file. */
  readonly files?: FileDigest[];
}

/** How `sha256` is computed, recorded in the manifest so that anyone can check a snapshot with coreutils. */
export const DIGEST_METHODS = {
  custom: "sha256 of the file (sha256sum NAME.dump)",
  directory:
    "sha256 of the lines '<file name>\\t<sha256 of the file>\\n' for every file in the directory, sorted by name " +
    "(cd NAME && sha256sum * | awk '{print $2\"\\t\"$1}' | LC_ALL=C sort | sha256sum)",
} as const;

/**
 * The canonical digest of a directory-format snapshot: one line per file, sorted by name (byte order), so it
 * does not depend on the order in which pg_dump's parallel workers wrote the files or we hashed them.
 */
export function directoryDigest(files: readonly FileDigest[]): SnapshotDigest {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const listing = createHash("sha256");
  for (const file of sorted) listing.update(`${file.name}\t${file.sha256}\n`);
  return { sha256: listing.digest("hex"), bytes: sorted.reduce((sum, f) => sum + f.bytes, 0), files: sorted };
}

const READ_CHUNK_BYTES = 1024 * 1024;

/** A hash and how many bytes of its file it has seen. */
export interface HashProgress {
  readonly hash: Hash;
  offset: number;
}

/**
 * Feeds the file's bytes from progress.offset to its current end to the hash, through a reused buffer.
 * The offset moves with every chunk, so an error part-way leaves hash and offset in step.
 */
export async function hashFrom(file: string, progress: HashProgress, buffer: Buffer): Promise<void> {
  const handle = await fs.open(file, "r");
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, progress.offset);
      if (bytesRead === 0) return;
      progress.hash.update(buffer.subarray(0, bytesRead));
      progress.offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

async function digestFile(file: string, buffer: Buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)): Promise<FileDigest> {
  const progress: HashProgress = { hash: createHash("sha256"), offset: 0 };
  await hashFrom(file, progress, buffer);
  return { name: path.basename(file), bytes: progress.offset, sha256: progress.hash.digest("hex") };
}

/** Digests a finished snapshot (custom file or directory), a few files at a time. */
export async function digestSnapshot(target: string, concurrency = 4): Promise<SnapshotDigest> {
  const stat = await fs.stat(target);
  if (!stat.isDirectory()) {
    const file = await digestFile(target);
    return { sha256: file.sha256, bytes: file.bytes };
  }
  const names = await fs.readdir(target);
  const digests: FileDigest[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    while (next < names.length) {
      const name = names[next++];
      digests.push(await digestFile(path.join(target, name), buffer));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return directoryDigest(digests);
}

/** A pass-through stream that hashes what flows through it: the custom-format dump is hashed on its way to disk. */
export class HashingStream extends Transform {
  private readonly hash = createHash("sha256");
  private count = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    callback(null, chunk);
  }

  /** Call once the stream has finished. */
  digest(): SnapshotDigest {
    return { sha256: this.hash.digest("hex"), bytes: this.count };
  }
}
