import fs from "node:fs/promises";
import type { ConnectionFacts } from "../pg/connection";
import type { CompanionBackup } from "./companions";
import type { FileDigest } from "./digest";
import { SNAPSHOT_FORMATS, SnapshotFormat } from "./layout";

/** Bumped when a field changes meaning; readers refuse versions they do not know. */
export const MANIFEST_VERSION = 1;

/** `NAME.manifest.json`: what a snapshot is, where it came from, and how to check it. */
export interface SnapshotManifest {
  readonly manifestVersion: number;
  readonly name: string;
  /** Absolute path of the snapshot when it was taken (DIR/NAME.dump or DIR/NAME/). */
  readonly path: string;
  readonly format: SnapshotFormat;
  readonly sha256: string;
  /** How sha256 was computed (see digest.ts). */
  readonly sha256Method: string;
  readonly bytes: number;
  /** Directory format: every file with its size and sha256. */
  readonly files?: FileDigest[];
  /** Entries pg_restore --list found in the archive. */
  readonly tocEntries: number;
  readonly createdAt: string;
  readonly durations: {
    readonly dumpMs: number;
    /** Wall time hashing added after pg_dump exited (the dump is hashed while it is written). */
    readonly hashMs: number;
    readonly verifyMs: number;
  };
  /** Where the dump came from; never the password. */
  readonly source: ConnectionFacts;
  readonly serverVersion: string;
  readonly serverVersionNum: number;
  /** The answer of --schema-version-query; null when no query was given or it returned NULL. */
  readonly schemaVersion: string | null;
  readonly pgDumpVersion: string;
  readonly dumpOptions: { readonly jobs: number; readonly compress: number };
  /** What the caller passed in --context-json: release, namespace, fromTags, toTags, chart versions, revision. */
  readonly context?: Record<string, unknown>;
  /** Backups committed with the dump: Kubernetes Secrets, Redis (em-runtime). Absent when none was asked for. */
  readonly companions?: CompanionBackup[];
}

export function serializeManifest(manifest: SnapshotManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Reads and checks a manifest; returns a reason instead of a manifest when it is missing or not one of ours,
 * so each caller can phrase what that means for it.
 */
export async function readManifest(file: string): Promise<SnapshotManifest | { problem: string }> {
  return readCheckedJson<SnapshotManifest>(file, manifestProblem);
}

/** Reads a JSON file and checks it with problemOf: the value, or why it is missing, unreadable or not a T. */
export async function readCheckedJson<T>(
  file: string,
  problemOf: (value: unknown) => string | undefined,
): Promise<T | { problem: string }> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: code === "ENOENT" ? `${file} does not exist` : `${file} cannot be read (${code})` };
  }
  return checkedJson(text, file, problemOf);
}

/** A manifest read from elsewhere (an object in the snapshot store), `source` naming it in the problem. */
export function parseManifest(text: string, source: string): SnapshotManifest | { problem: string } {
  return checkedJson<SnapshotManifest>(text, source, manifestProblem);
}

function checkedJson<T>(
  text: string,
  source: string,
  problemOf: (value: unknown) => string | undefined,
): T | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: `${source} is not valid JSON` };
  }
  const problem = problemOf(value);
  return problem === undefined ? (value as T) : { problem: `${source} ${problem}` };
}

export function isManifest(value: SnapshotManifest | { problem: string }): value is SnapshotManifest {
  return !("problem" in value);
}

function manifestProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not a JSON object";
  const m = value as Record<string, unknown>;
  if (m.manifestVersion !== MANIFEST_VERSION) {
    return `has manifestVersion ${JSON.stringify(m.manifestVersion)}; this runbook reads version ${MANIFEST_VERSION}`;
  }
  const strings = ["name", "path", "sha256", "createdAt", "serverVersion", "pgDumpVersion"];
  for (const key of strings) if (typeof m[key] !== "string") return `lacks the text field '${key}'`;
  for (const key of ["bytes", "serverVersionNum", "tocEntries"]) {
    if (typeof m[key] !== "number") return `lacks the number field '${key}'`;
  }
  if (!SNAPSHOT_FORMATS.includes(m.format as SnapshotFormat)) return `has format ${JSON.stringify(m.format)}`;
  if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) return "has a sha256 that is not 64 hex digits";
  const source = m.source as Record<string, unknown> | undefined;
  if (typeof source !== "object" || source === null || typeof source.database !== "string") {
    return "lacks source.database";
  }
  return undefined;
}
