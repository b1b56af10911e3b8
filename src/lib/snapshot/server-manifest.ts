import type { ConnectionFacts } from "../pg/connection";
import type { CompanionBackup } from "./companions";
import type { DatabaseProperties } from "../pg/database-properties";
import type { FileDigest } from "./digest";
import { readCheckedJson } from "./manifest";

/** Bumped when a field changes meaning; readers refuse versions they do not know. */
export const SERVER_MANIFEST_VERSION = 1;

/** How the snapshot's own sha256 is computed, so that anyone can check it with coreutils. */
export const SERVER_DIGEST_METHOD =
  "sha256 of the lines '<path relative to the snapshot>\\t<sha256 of the file>\\n' for every file in the snapshot " +
  "but manifest.json, sorted by path (cd NAME && find . -type f ! -name manifest.json -printf '%P\\n' | LC_ALL=C sort " +
  "| xargs sha256sum | awk '{print $2\"\\t\"$1}' | sha256sum)";

/** One database of a server snapshot. */
export interface ServerDatabaseEntry {
  readonly name: string;
  /** The dump's directory, relative to the snapshot (`databases/<name>`). */
  readonly directory: string;
  /** sha256 of the dump as a single-database directory snapshot computes it (digest.ts). */
  readonly sha256: string;
  readonly bytes: number;
  readonly files: FileDigest[];
  readonly tocEntries: number;
  /** alembic_version.version_num (several joined with ','); null when the database has no such table. */
  readonly schemaVersion: string | null;
  /** Owner, encoding, locale, grants and settings, for creating the database again before a restore. */
  readonly properties: DatabaseProperties;
  readonly durations: { readonly dumpMs: number; readonly hashMs: number; readonly verifyMs: number };
}

/** `DIR/NAME/manifest.json` of a snapshot of every database on a server plus its roles (`--all-databases`). */
export interface ServerSnapshotManifest {
  readonly manifestVersion: number;
  readonly kind: "server";
  readonly name: string;
  /** Absolute path of the snapshot directory when it was taken. */
  readonly path: string;
  readonly sha256: string;
  readonly sha256Method: string;
  /** Every file but the manifest. */
  readonly bytes: number;
  readonly createdAt: string;
  readonly durations: {
    /** Connecting, listing the databases and reading their properties and schema versions. */
    readonly inspectMs: number;
    readonly globalsMs: number;
    /** Wall time from the first database dump's start to the last one's verification. */
    readonly databasesMs: number;
    /** Reading the Secrets and copying Redis, when they were asked for. */
    readonly companionsMs?: number;
  };
  /** The connection the snapshot was taken through; never the password. */
  readonly source: ConnectionFacts;
  readonly serverVersion: string;
  readonly serverVersionNum: number;
  readonly pgDumpVersion: string;
  readonly dumpOptions: {
    readonly format: "directory";
    readonly jobs: number;
    readonly compress: number;
    readonly excludedDatabases: string[];
    /** --include-database patterns, when the snapshot was limited to the databases they match. */
    readonly includedDatabases?: string[];
  };
  readonly globals: {
    readonly file: string;
    readonly sha256: string;
    readonly bytes: number;
    /** false: the roles were saved with --no-role-passwords and need their passwords set after a restore. */
    readonly rolePasswords: boolean;
  };
  readonly databases: ServerDatabaseEntry[];
  /**
   * The Kubernetes Secrets and the Redis dataset saved with the databases, as files inside the snapshot
   * (server-layout.ts SERVER_COMPANION_FILES), each with its sha256 and size; absent when none was asked for.
   */
  readonly companions?: CompanionBackup[];
  readonly context?: Record<string, unknown>;
}

export function serializeServerManifest(manifest: ServerSnapshotManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Reads and checks a server manifest; a reason instead of a manifest when it is missing or not one. */
export async function readServerManifest(file: string): Promise<ServerSnapshotManifest | { problem: string }> {
  return readCheckedJson<ServerSnapshotManifest>(file, serverManifestProblem);
}

export function isServerManifest(value: ServerSnapshotManifest | { problem: string }): value is ServerSnapshotManifest {
  return !("problem" in value);
}

function serverManifestProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not a JSON object";
  const m = value as Record<string, unknown>;
  if (m.kind !== "server") return "is not the manifest of a server snapshot (its kind is not 'server')";
  if (m.manifestVersion !== SERVER_MANIFEST_VERSION) {
    return `has manifestVersion ${JSON.stringify(m.manifestVersion)}; this runbook reads version ${SERVER_MANIFEST_VERSION}`;
  }
  for (const key of ["name", "path", "sha256", "createdAt", "serverVersion"]) {
    if (typeof m[key] !== "string") return `lacks the text field '${key}'`;
  }
  if (typeof m.bytes !== "number") return "lacks the number field 'bytes'";
  if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) return "has a sha256 that is not 64 hex digits";
  if (!Array.isArray(m.databases)) return "lacks the list 'databases'";
  const globals = m.globals as Record<string, unknown> | undefined;
  if (typeof globals !== "object" || globals === null || typeof globals.sha256 !== "string") {
    return "lacks globals.sha256";
  }
  return undefined;
}
