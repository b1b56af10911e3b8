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

/** Every file below dir, as '/'-separated paths relative to it. */
export function filesBelow(dir: string, prefix = ""): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    return entry.isDirectory() ? filesBelow(path.join(dir, entry.name), relative) : [relative];
  });
}

/** A server snapshot's digest: sorted "path\tsha256\n" lines of every file below it but manifest.json. */
export function serverSnapshotSha256(dir: string): string {
  const lines = filesBelow(dir)
    .filter((f) => f !== "manifest.json")
    .sort()
    .map((f) => `${f}\t${sha256File(path.join(dir, f))}\n`)
    .join("");
  return createHash("sha256").update(lines).digest("hex");
}
