import { createHash } from "node:crypto";
import path from "node:path";
import type { CompanionPlacement } from "./companions";
import type { CompanionKind } from "./layout";

/**
 * Inside a server snapshot `DIR/NAME/`: the roles and tablespaces, one directory-format dump per database, the
 * companions asked for (the Kubernetes Secrets, the Redis dataset) and the manifest. All of it lives inside the
 * directory so that one rename commits all of it together.
 */
export const GLOBALS_FILE = "globals.sql";
export const DATABASES_DIR = "databases";
export const SERVER_MANIFEST_FILE = "manifest.json";
export const SERVER_COMPANION_FILES: Readonly<Record<CompanionKind, string>> = {
  "kubernetes-secrets": "secrets.json",
  redis: "redis.rdb",
};

/**
 * The companions of the server snapshot NAME: written straight into its partial directory, where they need no
 * rename of their own, and recorded at their place in the final one.
 */
export function serverCompanionPlacement(name: string, partialDir: string, finalDir: string): CompanionPlacement {
  return {
    name,
    manifestPath: serverManifestPath(finalDir),
    companionPath: (kind) => path.join(finalDir, SERVER_COMPANION_FILES[kind]),
    companionPartialPath: (kind) => path.join(partialDir, SERVER_COMPANION_FILES[kind]),
  };
}

/** Database names that are usable as a directory name as they are; any other gets a digest suffix. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/**
 * The directory a database's dump goes in, relative to the snapshot: `databases/<name>`, or for a name with
 * characters a file name should not carry (PostgreSQL allows '/', spaces, any Unicode) the name with those
 * replaced by '_' plus 8 hex digits of its sha256, so two such names never share a directory.
 */
export function databaseDumpDir(database: string): string {
  if (PLAIN_NAME.test(database)) return path.posix.join(DATABASES_DIR, database);
  const readable = database
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .replace(/^[_-]+/, "")
    .slice(0, 80);
  const digest = createHash("sha256").update(database, "utf8").digest("hex").slice(0, 8);
  return path.posix.join(DATABASES_DIR, `${readable === "" ? "db" : readable}.${digest}`);
}

/** `DIR/NAME/manifest.json` for a server snapshot at `DIR/NAME`. */
export function serverManifestPath(snapshotPath: string): string {
  return path.join(snapshotPath, SERVER_MANIFEST_FILE);
}
