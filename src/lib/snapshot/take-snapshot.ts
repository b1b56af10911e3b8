import fs from "node:fs/promises";
import path from "node:path";
import { OperationFailed } from "../errors";
import { DatabaseFacts, checkDatabase } from "../pg/check-database";
import { exportSnapshot } from "../pg/exported-snapshot";
import { PgConnection, connectionFacts } from "../pg/connection";
import { childEnvironment } from "../child-env";
import { ToolVersion, pgToolVersion } from "../pg/tools";
import { compareMajors, majorOfVersionNum } from "../pg/versions";
import {
  CompanionRequest,
  PendingCompanion,
  checkCompanionsOf,
  removeOrphanedCompanions,
  takeCompanions,
} from "./companions";
import { DIGEST_METHODS } from "./digest";
import { checkSnapshotDirPrivacy } from "./dir-privacy";
import { dumpDatabase } from "./dump";
import { DIRECTORY_MODE, FILE_MODE, ensureDirectory, exists, fsyncPath, removeQuietly, sizeOf } from "./durable-fs";
import {
  SnapshotFormat,
  SnapshotLayout,
  defaultSnapshotName,
  numberedName,
  partialOwnerPid,
  snapshotLayout,
} from "./layout";
import { MANIFEST_VERSION, SnapshotManifest, isManifest, readManifest, serializeManifest } from "./manifest";
import { verifyArchive } from "./verify-archive";

export interface SnapshotRequest {
  readonly connection: PgConnection;
  /** The CLI's environment: PATH and locale reach pg_dump, nothing else does. */
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly outDir: string;
  /** Default `<database>-<UTC time>`; a given name makes the snapshot idempotent. */
  readonly name?: string;
  readonly format: SnapshotFormat;
  readonly jobs: number;
  readonly compress: number;
  readonly schemaVersionQuery?: string;
  readonly context?: Record<string, unknown>;
  /** Kubernetes Secrets and Redis saved with the dump and committed with it. Default: none. */
  readonly companions?: CompanionRequest;
  /** A protected stack refuses an out-dir others can get at; otherwise that is a warning. Default false. */
  readonly protectedStack?: boolean;
  readonly signal?: AbortSignal;
}

export interface SnapshotOutcome {
  readonly manifest: SnapshotManifest;
  /** Where the snapshot is now (the manifest's path may predate a move of the directory). */
  readonly path: string;
  readonly manifestPath: string;
  /** true when NAME already existed with a valid manifest and nothing was dumped. */
  readonly reused: boolean;
  /** Problems worth fixing that did not stop the snapshot (an out-dir others can read). */
  readonly warnings?: readonly string[];
}

/**
 * Dumps the database into DIR atomically: pg_dump writes a hidden partial, which is hashed, checked with
 * pg_restore --list and flushed; then the manifest is written (flushed, under a partial name), the snapshot is
 * renamed into place (the commit point) and the manifest after it. Any failure removes the partials.
 */
export async function takeSnapshot(request: SnapshotRequest): Promise<SnapshotOutcome> {
  return inSnapshotDir(request.outDir, request.protectedStack ?? false, () => snapshotInto(request));
}

/**
 * Creates the out-dir when missing and checks who can get at it before any work: refused in a protected stack,
 * otherwise a warning added to the work's outcome.
 */
export async function inSnapshotDir<T extends { readonly warnings?: readonly string[] }>(
  outDir: string,
  protectedStack: boolean,
  work: () => Promise<T>,
): Promise<T> {
  await ensureOutDir(outDir);
  const privacy = await checkSnapshotDirPrivacy(outDir, { protectedStack });
  if (!privacy.allowed) throw new OperationFailed(privacy.refusal);
  const outcome = await work();
  return privacy.warning === undefined ? outcome : { ...outcome, warnings: [privacy.warning] };
}

/** takeSnapshot's work once the out-dir exists and may be used. */
async function snapshotInto(request: SnapshotRequest): Promise<SnapshotOutcome> {
  const named = request.name === undefined ? undefined : snapshotLayout(request.outDir, request.name);
  if (named !== undefined) {
    const existing = await findExisting(named);
    if (existing !== undefined && existing.manifest.source.database !== request.connection.database) {
      throw new OperationFailed(
        `snapshot ${named.name} in ${request.outDir} is of database ${existing.manifest.source.database}, not of ` +
          `${request.connection.database} named by PG_DSN: choose another --name`,
      );
    }
    if (existing !== undefined) {
      await checkCompanionsOf(existing.manifest.companions, request.companions, named);
      return existing;
    }
  }
  // The database must answer before anything is written. pg_dump's version is checked alongside the dump
  // rather than before it: it only costs wall time (Debian's pg_wrapper alone takes ~70 ms), and a pg_dump
  // older than the server refuses to dump it anyway; the refusal reported is then this check's, naming the fix.
  const facts = await checkDatabase(request.connection, { schemaVersionQuery: request.schemaVersionQuery });
  const toolCheck = checkPgDumpVersion(request.parentEnv, facts);
  toolCheck.catch(() => undefined); // observed below; not unhandled while the companions run
  const layout = named ?? (await unusedDefaultLayout(request.outDir, facts.database, new Date()));
  await removeStalePartials(layout);
  await removeOrphanedCompanions(layout);

  const finalPath = layout.finalPath(request.format);
  // pg_dump creates its files with the process umask; 077 keeps every byte of the dump private from the start.
  const previousUmask = process.umask(0o077);
  let companions: PendingCompanion[] = [];
  try {
    companions = await takeCompanions(request.companions, layout, request.parentEnv, request.signal);
    // The schema version recorded is the one inside the snapshot pg_dump takes, not one read before it.
    const exported = await exportSnapshot(request.connection, request.schemaVersionQuery);
    const stopDump = new AbortController();
    toolCheck.catch(() => stopDump.abort());
    const [checked, dumped] = await Promise.allSettled([
      toolCheck,
      dumpDatabase({
        connection: request.connection,
        parentEnv: request.parentEnv,
        format: request.format,
        jobs: request.jobs,
        compress: request.compress,
        partialPath: layout.partialPath,
        snapshotId: exported.id,
        signal: request.signal === undefined ? stopDump.signal : AbortSignal.any([request.signal, stopDump.signal]),
      }).finally(() => exported.release()),
    ]);
    if (request.signal?.aborted) throw request.signal.reason ?? new OperationFailed("the snapshot was interrupted");
    if (checked.status === "rejected") throw checked.reason;
    if (dumped.status === "rejected") throw dumped.reason;
    const pgDump = checked.value;
    const dump = dumped.value;
    await restrictModes(layout.partialPath, request.format);
    const verifyStarted = Date.now();
    const tocEntries = await verifyArchive(layout.partialPath, request.parentEnv, request.signal);
    const manifest: SnapshotManifest = {
      manifestVersion: MANIFEST_VERSION,
      name: layout.name,
      path: finalPath,
      format: request.format,
      sha256: dump.digest.sha256,
      sha256Method: DIGEST_METHODS[request.format],
      bytes: dump.digest.bytes,
      ...(dump.digest.files === undefined ? {} : { files: dump.digest.files }),
      tocEntries,
      createdAt: new Date().toISOString(),
      durations: { dumpMs: dump.dumpMs, hashMs: dump.hashMs, verifyMs: Date.now() - verifyStarted },
      source: connectionFacts(request.connection),
      serverVersion: facts.serverVersion,
      serverVersionNum: facts.serverVersionNum,
      schemaVersion: exported.schemaVersion,
      pgDumpVersion: pgDump.version,
      dumpOptions: { jobs: request.format === "directory" ? request.jobs : 1, compress: request.compress },
      ...(request.context === undefined ? {} : { context: request.context }),
      ...(companions.length === 0 ? {} : { companions: companions.map((c) => c.backup) }),
    };
    await commit(layout, finalPath, serializeManifest(manifest), companions);
    return { manifest, path: finalPath, manifestPath: layout.manifestPath, reused: false };
  } catch (err) {
    await removeQuietly(layout.partialPath);
    await removeQuietly(layout.partialManifestPath);
    for (const companion of companions) await removeQuietly(companion.partialPath);
    // Companions renamed before a failed commit belong to no snapshot.
    if (!(await exists(finalPath))) await removeOrphanedCompanions(layout);
    throw err;
  } finally {
    process.umask(previousUmask);
  }
}

/** pg_dump's version, refused when it is older than the server: it could not dump it. */
export async function checkPgDumpVersion(parentEnv: NodeJS.ProcessEnv, facts: DatabaseFacts): Promise<ToolVersion> {
  const pgDump = await pgToolVersion("pg_dump", childEnvironment(parentEnv));
  const serverMajor = majorOfVersionNum(facts.serverVersionNum);
  if (compareMajors(pgDump.major, serverMajor) < 0) {
    throw new OperationFailed(
      `pg_dump ${pgDump.version} is older than the server (PostgreSQL ${facts.serverVersion}) and cannot dump it: ` +
        `install the PostgreSQL ${serverMajor} client tools (Debian/Ubuntu: apt-get install postgresql-client-${serverMajor}) ` +
        `and put their bin directory (e.g. /usr/lib/postgresql/${serverMajor}/bin) first on PATH`,
    );
  }
  return pgDump;
}

/**
 * `<database>-<UTC time>`, or `...-2`, `-3`... when a snapshot of that name is already there: two snapshots of a
 * database taken within one second are two snapshots, not a collision.
 */
export async function unusedDefaultLayout(outDir: string, database: string, now: Date): Promise<SnapshotLayout> {
  const base = defaultSnapshotName(database, now);
  for (let attempt = 1; ; attempt++) {
    const layout = snapshotLayout(outDir, numberedName(base, attempt));
    if (!(await snapshotNameTaken(layout))) return layout;
  }
}

/** Whether anything of a snapshot of this name (its manifest, dump file or dump directory) is there. */
export async function snapshotNameTaken(layout: SnapshotLayout): Promise<boolean> {
  const paths = [layout.manifestPath, layout.finalPath("custom"), layout.finalPath("directory")];
  return (await Promise.all(paths.map(exists))).some(Boolean);
}

async function ensureOutDir(outDir: string): Promise<void> {
  try {
    await ensureDirectory(outDir);
  } catch (err) {
    throw new OperationFailed(
      `cannot create --out-dir ${outDir}: ${(err as Error).message}; choose a writable directory`,
    );
  }
}

/**
 * The manifest is flushed first; the companions are renamed into place, then the snapshot's rename commits,
 * then the manifest's rename follows it.
 */
async function commit(
  layout: SnapshotLayout,
  finalPath: string,
  manifestText: string,
  companions: readonly PendingCompanion[],
): Promise<void> {
  const handle = await fs.open(layout.partialManifestPath, "wx", FILE_MODE);
  try {
    await handle.writeFile(manifestText, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  for (const companion of companions) await renameWithoutReplacing(companion.partialPath, companion.backup.path);
  await renameWithoutReplacing(layout.partialPath, finalPath);
  await fs.rename(layout.partialManifestPath, layout.manifestPath);
  await fsyncPath(layout.outDir);
}

/** rename(2) silently replaces a file; a hard link does not, so a racing run of the same name cannot be clobbered. */
export async function renameWithoutReplacing(from: string, to: string): Promise<void> {
  try {
    if ((await fs.stat(from)).isDirectory()) {
      await fs.rename(from, to); // fails with ENOTEMPTY when a snapshot directory is already there
    } else {
      await fs.link(from, to);
      await fs.unlink(from);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTEMPTY") {
      throw new OperationFailed(
        `${to} appeared while this snapshot was being taken: is another run using the same --name?`,
      );
    }
    throw err;
  }
}

export async function restrictModes(partialPath: string, format: SnapshotFormat): Promise<void> {
  if (format === "custom") return; // created 0600
  await fs.chmod(partialPath, DIRECTORY_MODE);
  for (const entry of await fs.readdir(partialPath)) await fs.chmod(path.join(partialPath, entry), FILE_MODE);
}

/**
 * A snapshot of this name that already exists: returned as is when its manifest is valid and its size matches.
 * A snapshot left without its manifest by a crash between the two renames gets the flushed partial manifest
 * renamed into place. Anything else is refused rather than overwritten.
 */
async function findExisting(layout: SnapshotLayout): Promise<SnapshotOutcome | undefined> {
  const candidates = (["directory", "custom"] as const).map((f) => layout.finalPath(f));
  const present: string[] = [];
  for (const candidate of candidates) if (await exists(candidate)) present.push(candidate);
  if (present.length === 0) return undefined;
  const finalPath = present[0];
  let manifest = await readManifest(layout.manifestPath);
  if (!isManifest(manifest)) {
    const recovered = await recoverManifest(layout);
    if (recovered === undefined) {
      throw new OperationFailed(
        `${finalPath} exists but its manifest is unusable (${manifest.problem}): it may be left from an ` +
          `interrupted run or belong to something else; move it away or choose another --name`,
      );
    }
    manifest = recovered;
  }
  const bytes = await sizeOf(finalPath);
  if (
    manifest.name !== layout.name ||
    path.basename(manifest.path) !== path.basename(finalPath) ||
    bytes !== manifest.bytes
  ) {
    throw new OperationFailed(
      `${finalPath} does not match its manifest ${layout.manifestPath} (name ${manifest.name}, ${manifest.bytes} bytes ` +
        `recorded, ${bytes} found): move both away or choose another --name`,
    );
  }
  return { manifest, path: finalPath, manifestPath: layout.manifestPath, reused: true };
}

async function recoverManifest(layout: SnapshotLayout): Promise<SnapshotManifest | undefined> {
  for (const entry of await fs.readdir(layout.outDir)) {
    const pid = partialOwnerPid(entry, layout.name);
    if (pid === undefined || !entry.includes(".manifest.json.") || isAlive(pid)) continue;
    const candidate = await readManifest(path.join(layout.outDir, entry));
    if (!isManifest(candidate) || candidate.name !== layout.name) continue;
    await fs.rename(path.join(layout.outDir, entry), layout.manifestPath);
    await fsyncPath(layout.outDir);
    return candidate;
  }
  return undefined;
}

/** Partials of this name whose process is gone (killed mid-dump) are removed; a live one is left alone. */
export async function removeStalePartials(layout: SnapshotLayout): Promise<void> {
  for (const entry of await fs.readdir(layout.outDir)) {
    const pid = partialOwnerPid(entry, layout.name);
    if (pid !== undefined && !isAlive(pid)) await removeQuietly(path.join(layout.outDir, entry));
  }
}

/**
 * Whether another process with this pid runs. Our own pid counts as gone: this run has not created its
 * partials yet, so one with our pid is left from an earlier run (containers often reuse the same pid).
 */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
