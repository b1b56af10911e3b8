import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { FileDigest, HashProgress, SnapshotDigest, directoryDigest, hashFrom } from "./digest";

const MIN_INTERVAL_MS = 100;

/**
 * Hashes the files of a directory-format dump while pg_dump is still writing them, so the digest is ready
 * moments after pg_dump exits instead of costing a second read of the whole dump afterwards.
 *
 * It relies on how pg_dump writes that format (src/bin/pg_dump/pg_backup_directory.c): toc.dat is written
 * and closed before any data file, each data file is written front to back by one worker, blobs.toc is only
 * appended to; bytes below a file's current size never change. finish() rejects a file that shrank.
 */
export class DirectoryDigestFollower {
  private readonly files = new Map<string, HashProgress>();
  private readonly buffer = Buffer.allocUnsafe(1024 * 1024);
  private stopped = false;
  /** Ends the current pause early, so finish() does not wait out a polling interval. */
  private wake: () => void = () => undefined;
  private readonly loop: Promise<void>;

  constructor(private readonly directory: string) {
    this.loop = this.follow();
  }

  /** Hashes what is left once pg_dump has exited successfully, and returns the canonical digest. */
  async finish(): Promise<SnapshotDigest> {
    this.stop();
    await this.loop;
    await this.pass();
    const digests: FileDigest[] = [];
    for (const [name, file] of this.files) {
      const size = (await fs.stat(path.join(this.directory, name))).size;
      if (size !== file.offset) {
        throw new Error(
          `${name} in ${this.directory} changed size while it was hashed (${file.offset} → ${size} bytes)`,
        );
      }
      digests.push({ name, bytes: file.offset, sha256: file.hash.digest("hex") });
    }
    return directoryDigest(digests);
  }

  /** Stops following (pg_dump failed); the partial directory is about to be removed. */
  async abandon(): Promise<void> {
    this.stop();
    await this.loop.catch(() => undefined);
  }

  private stop(): void {
    this.stopped = true;
    this.wake();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      await this.pass().catch(() => undefined); // a file vanishing mid-pass is retried; finish() has the last word
      // A dump of thousands of tables makes each pass longer; keep polling a small share of the time.
      if (!this.stopped) await this.pause(Math.max(MIN_INTERVAL_MS, 2 * (Date.now() - started)));
    }
  }

  private async pass(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.directory);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // pg_dump has not created it yet
      throw err;
    }
    for (const name of names) {
      let file = this.files.get(name);
      if (file === undefined) {
        file = { hash: createHash("sha256"), offset: 0 };
        this.files.set(name, file);
      }
      const filePath = path.join(this.directory, name);
      const size = (await fs.stat(filePath)).size;
      if (size > file.offset) await hashFrom(filePath, file, this.buffer);
    }
  }
}
