import fs from "node:fs/promises";
import path from "node:path";
import { OperationFailed, UsageError } from "../errors";
import type { DatabaseFacts } from "../pg/check-database";
import { majorOfVersionNum } from "../pg/versions";
import { digestSnapshot } from "./digest";
import { manifestPathFor } from "./layout";
import { SnapshotManifest, isManifest, readManifest } from "./manifest";
import { loadServerDatabaseDump } from "./server-snapshot-files";

export interface LoadedSnapshot {
  readonly path: string;
  readonly manifestPath: string;
  readonly manifest: SnapshotManifest;
}

/** A reason to refuse a restore that --force overrides. */
export interface Refusal {
  readonly check: "sha256" | "database" | "serverVersion";
  readonly message: string;
}

/**
 * Finds a snapshot and its manifest from --snapshot (the snapshot, DIR/NAME.dump or DIR/NAME, or its manifest).
 * A missing path is bad usage; a snapshot without a usable manifest cannot be checked and is refused. One
 * database's dump inside a server snapshot (`S/databases/<name>`) is read through the server manifest.
 */
export async function loadSnapshot(snapshotArg: string): Promise<LoadedSnapshot> {
  const inServerSnapshot = await loadServerDatabaseDump(snapshotArg);
  if (inServerSnapshot !== undefined) return inServerSnapshot;
  const manifestPath = manifestPathFor(snapshotArg);
  const given = path.resolve(snapshotArg);
  if (given !== manifestPath && !(await isPresent(given))) {
    throw new UsageError(
      `--snapshot ${snapshotArg} does not exist: give the path of a snapshot (DIR/NAME.dump or DIR/NAME)`,
    );
  }
  const manifest = await readManifest(manifestPath);
  if (!isManifest(manifest)) {
    throw new OperationFailed(
      `cannot restore ${snapshotArg} without its manifest (${manifest.problem}): the manifest records the sha256, ` +
        "source database and server version the restore checks; restore a snapshot taken by 'runbook snapshot'",
    );
  }
  const snapshotPath =
    given === manifestPath ? path.join(path.dirname(manifestPath), path.basename(manifest.path)) : given;
  const stat = await fs.stat(snapshotPath).catch(() => undefined);
  if (stat === undefined) throw new UsageError(`${snapshotPath}, named by ${manifestPath}, does not exist`);
  if (stat.isDirectory() !== (manifest.format === "directory")) {
    throw new OperationFailed(`${snapshotPath} is not a ${manifest.format}-format snapshot as ${manifestPath} says`);
  }
  return { path: snapshotPath, manifestPath, manifest };
}

async function isPresent(target: string): Promise<boolean> {
  return fs.stat(target).then(
    () => true,
    () => false,
  );
}

/** Recomputes the snapshot's sha256 the way its manifest says it was computed. */
export async function checkIntegrity(snapshot: LoadedSnapshot): Promise<Refusal | undefined> {
  const digest = await digestSnapshot(snapshot.path);
  if (digest.sha256 === snapshot.manifest.sha256) return undefined;
  const changed = (snapshot.manifest.files ?? [])
    .filter((f) => !digest.files?.some((d) => d.name === f.name && d.sha256 === f.sha256))
    .map((f) => f.name);
  const which = changed.length > 0 ? ` (files that differ or are missing: ${changed.slice(0, 5).join(", ")})` : "";
  return {
    check: "sha256",
    message:
      `${snapshot.path} does not match its manifest: sha256 is ${digest.sha256}, the manifest says ` +
      `${snapshot.manifest.sha256}${which}; the snapshot was changed or damaged after it was taken`,
  };
}

/** Whether the snapshot belongs to this database: same database name, same server major version. */
export function checkTarget(manifest: SnapshotManifest, target: DatabaseFacts): Refusal[] {
  const refusals: Refusal[] = [];
  if (manifest.source.database !== target.database) {
    refusals.push({
      check: "database",
      message: `the snapshot is of database ${manifest.source.database}, not of ${target.database} named by PG_DSN`,
    });
  }
  const snapshotMajor = majorOfVersionNum(manifest.serverVersionNum);
  const targetMajor = majorOfVersionNum(target.serverVersionNum);
  if (snapshotMajor !== targetMajor) {
    refusals.push({
      check: "serverVersion",
      message: `the snapshot was taken from PostgreSQL ${manifest.serverVersion}, the target runs ${target.serverVersion} (major ${snapshotMajor} vs ${targetMajor})`,
    });
  }
  return refusals;
}
