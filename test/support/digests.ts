/** The snapshot digests the README documents, recomputed independently of the code under test. */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** A directory-format dump's digest: sorted "name\tsha256\n" lines. */
export function directorySha256(dir: string): string {
  const lines = fs
    .readdirSync(dir)
    .sort()
    .map((name) => `${name}\t${sha256File(path.join(dir, name))}\n`)
    .join("");
  return createHash("sha256").update(lines).digest("hex");
}
