import fs from "node:fs/promises";
import path from "node:path";

/** Snapshot files are readable by their owner only: a dump holds every row of the database. */
export const FILE_MODE = 0o600;
export const DIRECTORY_MODE = 0o700;

/** Flushes a file or directory to disk (a directory's fsync makes the names in it durable). */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await fs.open(target, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `value` as JSON atomically and privately (0600): a temporary file, flushed, renamed over `file`, and the
 * directory flushed, so that a crash leaves either the previous version or this one, never a torn file. The
 * journals of a restore and of a rollback are written this way.
 */
export async function writeJsonDurably(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: DIRECTORY_MODE });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}`);
  const handle = await fs.open(temp, "w", FILE_MODE);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  await fsyncPath(path.dirname(file));
}

/** Creates the output directory (0700) when missing; an existing one keeps its mode. */
export async function ensureDirectory(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIRECTORY_MODE });
}

/** Removes a file or directory tree; a missing one is fine. */
export async function removeQuietly(target: string): Promise<void> {
  await fs.rm(target, { recursive: true, force: true }).catch(() => undefined);
}

export async function exists(target: string): Promise<boolean> {
  try {
    await fs.lstat(target);
    return true;
  } catch {
    return false;
  }
}

/** Total size in bytes of a file, or of the files directly inside a directory (a directory-format dump). */
export async function sizeOf(target: string): Promise<number> {
  const stat = await fs.stat(target);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of await fs.readdir(target)) total += (await fs.stat(path.join(target, entry))).size;
  return total;
}
