import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { DIRECTORY_MODE, FILE_MODE, ensureDirectory, fsyncPath } from "../snapshot/durable-fs";
import type { StoreObjects } from "./objects";

/**
 * A directory as a snapshot store (a shared mount): files are copied in under a hidden partial name, flushed
 * and renamed, so a reader never sees half a file.
 */
export class DirectoryObjects implements StoreObjects {
  constructor(private readonly dir: string) {}

  url(relative: string): string {
    return path.join(this.dir, relative);
  }

  async putFile(relative: string, file: string): Promise<void> {
    const target = this.url(relative);
    const parent = path.dirname(target);
    await ensureDirectory(parent);
    await fs.chmod(parent, DIRECTORY_MODE).catch(() => undefined);
    const partial = path.join(parent, `.${path.basename(target)}.partial-${process.pid}`);
    await fs.copyFile(file, partial);
    await fs.chmod(partial, FILE_MODE);
    await fsyncPath(partial);
    await fs.rename(partial, target);
    await fsyncPath(parent);
  }

  async get(relative: string): Promise<Readable | undefined> {
    const target = this.url(relative);
    try {
      const handle = await fs.open(target, "r");
      return handle.createReadStream();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async listTopLevel(): Promise<string[]> {
    try {
      return (await fs.readdir(this.dir)).filter((name) => !name.startsWith("."));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  destroy(): void {}
}
