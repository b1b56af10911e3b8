import fs from "node:fs/promises";
import path from "node:path";
import { OperationFailed } from "../errors";
import { checkDatabase } from "../pg/check-database";
import { connectClient } from "../pg/client";
import { PgConnection, connectionFacts } from "../pg/connection";
import { readDatabaseProperties } from "../pg/database-properties";
import { CompanionRequest, checkCompanionsOf, takeCompanions } from "./companions";
import { DatabaseToDump, dumpEachDatabase } from "./database-dumps";
import { withoutExcluded } from "./database-patterns";
import { FileDigest, directoryDigest } from "./digest";
import { DIRECTORY_MODE, FILE_MODE, exists, fsyncPath, removeQuietly, sizeOf } from "./durable-fs";
import { dumpGlobals } from "./globals";
import { acquireDatabaseLocks } from "../lock/operation-lock";
import { SnapshotLayout, snapshotLayout } from "./layout";
import { listServerDatabases } from "./server-databases";
import {
  DATABASES_DIR,
  GLOBALS_FILE,
  SERVER_COMPANION_FILES,
  serverCompanionPlacement,
  serverManifestPath,
} from "./server-layout";
import {
  SERVER_DIGEST_METHOD,
  SERVER_MANIFEST_VERSION,
  ServerSnapshotManifest,
  isServerManifest,
  readServerManifest,
  serializeServerManifest,
} from "./server-manifest";
import {
  checkPgDumpVersion,
  inSnapshotDir,
  removeStalePartials,
  renameWithoutReplacing,
  unusedDefaultLayout,
} from "./take-snapshot";

/** What the default name `all-databases-<UTC time>` starts with. */
const DEFAULT_NAME_BASE = "all-databases";

export interface ServerSnapshotRequest {
  /** Any database of the server; the snapshot covers them all. */
  readonly connection: PgConnection;
  /** The CLI's environment: PATH and locale reach the tools, nothing else does. */
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly outDir: string;
  /** Default `all-databases-<UTC time>`; a given name makes the snapshot idempotent. */
  readonly name?: string;
  readonly jobs: number;
  readonly compress: number;
  /** Save role password hashes (needs a superuser). Default false. */
  readonly withRolePasswords?: boolean;
  /** Databases left out (database-patterns.ts), and the patterns as given, for the manifest. */
  readonly exclude?: { readonly patterns: readonly RegExp[]; readonly given: readonly string[] };
  /** When given, only the databases matching one of these are saved (then `exclude` applies). */
  readonly include?: { readonly patterns: readonly RegExp[]; readonly given: readonly string[] };
  /** Kubernetes Secrets and Redis saved inside the snapshot and committed with it. Default: none. */
  readonly companions?: CompanionRequest;
  /**
   * The runbook command to name as the holder of the databases' operation locks, taken (all on one session)
   * once the databases are listed and held until the snapshot is committed. Absent: no lock is taken.
   */
  readonly lockCommand?: string;
  readonly context?: Record<string, unknown>;
  /** A protected stack refuses an out-dir others can get at; otherwise that is a warning. Default false. */
  readonly protectedStack?: boolean;
  readonly signal?: AbortSignal;
}

export interface ServerSnapshotOutcome {
  readonly manifest: ServerSnapshotManifest;
  readonly path: string;
  readonly manifestPath: string;
  /** true when NAME already existed as a valid server snapshot and nothing was dumped. */
  readonly reused: boolean;
  /** Writing the manifest, flushing and renaming: after the manifest was written, so not in it. */
  readonly commitMs?: number;
  readonly warnings?: readonly string[];
}

/**
 * Saves the server's roles and tablespaces (pg_dumpall --globals-only), every database (pg_dump, directory
 * format, parallel) and the companions asked for (Kubernetes Secrets, Redis; the single-database snapshot's
 * code) into one directory that is committed as a unit: everything is written under the hidden partial name,
 * hashed, checked with pg_restore --list and flushed, the manifest is written inside it, and one rename makes it
 * appear. Any failure removes the partial, so the final name holds a whole snapshot or nothing.
 */
export async function takeServerSnapshot(request: ServerSnapshotRequest): Promise<ServerSnapshotOutcome> {
  return inSnapshotDir(request.outDir, request.protectedStack ?? false, () => serverSnapshotInto(request));
}

async function serverSnapshotInto(request: ServerSnapshotRequest): Promise<ServerSnapshotOutcome> {
  const named = request.name === undefined ? undefined : snapshotLayout(request.outDir, request.name);
  if (named !== undefined) {
    const existing = await findExistingServerSnapshot(named, request.companions);
    if (existing !== undefined) return existing;
  }
  const inspectStarted = Date.now();
  const facts = await checkDatabase(request.connection);
  const [pgDump, databases] = await Promise.all([
    checkPgDumpVersion(request.parentEnv, facts),
    databasesToDump(request.connection, request.include?.patterns, request.exclude?.patterns ?? []),
  ]);
  const inspectMs = Date.now() - inspectStarted;
  const lock =
    request.lockCommand === undefined
      ? undefined
      : await acquireDatabaseLocks({
          connection: request.connection,
          databases: databases.map((d) => d.name),
          command: request.lockCommand,
        });
  try {
    return await dumpServer(request, { facts, pgDump, databases, inspectMs, named });
  } finally {
    await lock?.release();
  }
}

interface Inspected {
  readonly facts: Awaited<ReturnType<typeof checkDatabase>>;
  readonly pgDump: Awaited<ReturnType<typeof checkPgDumpVersion>>;
  readonly databases: DatabaseToDump[];
  readonly inspectMs: number;
  readonly named: SnapshotLayout | undefined;
}

async function dumpServer(
  request: ServerSnapshotRequest,
  { facts, pgDump, databases, inspectMs, named }: Inspected,
): Promise<ServerSnapshotOutcome> {
  const layout = named ?? (await unusedDefaultLayout(request.outDir, DEFAULT_NAME_BASE, new Date()));
  await removeStalePartials(layout);

  const partial = layout.partialPath;
  const finalPath = layout.finalPath("directory");
  // The tools create their files with the process umask; 077 keeps every byte private from the start.
  const previousUmask = process.umask(0o077);
  try {
    await fs.mkdir(partial, { mode: DIRECTORY_MODE });
    await fs.mkdir(path.join(partial, DATABASES_DIR), { mode: DIRECTORY_MODE });
    // First, as the single-database snapshot does: a missing Secret or an unreachable Redis fails the snapshot
    // before the long dumps. Written inside the partial directory, they are committed by its one rename.
    const companionsStarted = Date.now();
    const placement = serverCompanionPlacement(layout.name, partial, finalPath);
    const companions = await takeCompanions(request.companions, placement, request.parentEnv, request.signal);
    const companionsMs = Date.now() - companionsStarted;
    const globals = await dumpGlobals({
      connection: request.connection,
      parentEnv: request.parentEnv,
      file: path.join(partial, GLOBALS_FILE),
      withRolePasswords: request.withRolePasswords ?? false,
      signal: request.signal,
    });
    const databasesStarted = Date.now();
    const entries = await dumpEachDatabase({
      connection: request.connection,
      parentEnv: request.parentEnv,
      databases,
      snapshotDir: partial,
      jobs: request.jobs,
      compress: request.compress,
      signal: request.signal,
    });
    const databasesMs = Date.now() - databasesStarted;
    const files: FileDigest[] = [{ name: GLOBALS_FILE, sha256: globals.sha256, bytes: globals.bytes }];
    for (const entry of entries) {
      for (const file of entry.files) files.push({ ...file, name: `${entry.directory}/${file.name}` });
    }
    for (const { backup } of companions) {
      files.push({ name: SERVER_COMPANION_FILES[backup.kind], sha256: backup.sha256, bytes: backup.bytes });
    }
    const whole = directoryDigest(files);
    const commitStarted = Date.now();
    const manifest: ServerSnapshotManifest = {
      manifestVersion: SERVER_MANIFEST_VERSION,
      kind: "server",
      name: layout.name,
      path: finalPath,
      sha256: whole.sha256,
      sha256Method: SERVER_DIGEST_METHOD,
      bytes: whole.bytes,
      createdAt: new Date().toISOString(),
      durations: {
        inspectMs,
        globalsMs: globals.ms,
        databasesMs,
        ...(companions.length === 0 ? {} : { companionsMs }),
      },
      source: connectionFacts(request.connection),
      serverVersion: facts.serverVersion,
      serverVersionNum: facts.serverVersionNum,
      pgDumpVersion: pgDump.version,
      dumpOptions: {
        format: "directory",
        jobs: request.jobs,
        compress: request.compress,
        excludedDatabases: [...(request.exclude?.given ?? [])],
        ...(request.include === undefined ? {} : { includedDatabases: [...request.include.given] }),
      },
      globals: {
        file: GLOBALS_FILE,
        sha256: globals.sha256,
        bytes: globals.bytes,
        rolePasswords: request.withRolePasswords ?? false,
      },
      databases: entries,
      ...(companions.length === 0 ? {} : { companions: companions.map((c) => c.backup) }),
      ...(request.context === undefined ? {} : { context: request.context }),
    };
    await writeManifestAndFlush(partial, manifest, entries.length > 0);
    await renameWithoutReplacing(partial, finalPath);
    await fsyncPath(layout.outDir);
    const commitMs = Date.now() - commitStarted;
    return { manifest, path: finalPath, manifestPath: serverManifestPath(finalPath), reused: false, commitMs };
  } catch (err) {
    await removeQuietly(partial);
    throw err;
  } finally {
    process.umask(previousUmask);
  }
}

/** The databases to dump, with the properties a restore needs to create them again; none left is a failure. */
async function databasesToDump(
  connection: PgConnection,
  include: readonly RegExp[] | undefined,
  exclude: readonly RegExp[],
): Promise<DatabaseToDump[]> {
  const client = await connectClient(connection, { statementTimeoutMs: 30_000 });
  try {
    const listed = await listServerDatabases(client, connection);
    const kept = new Set(
      withoutExcluded(
        listed.map((d) => d.name).filter((name) => include === undefined || include.some((p) => p.test(name))),
        exclude,
      ),
    );
    const databases: DatabaseToDump[] = [];
    for (const database of listed.filter((d) => kept.has(d.name))) {
      databases.push({ ...database, properties: await readDatabaseProperties(client, connection, database.name) });
    }
    if (databases.length === 0) {
      throw new OperationFailed(
        "there is no database to dump: every database on the server is a template, refuses connections or " +
          "matches --exclude-database (or none matches --include-database); check the patterns",
      );
    }
    return databases;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The manifest goes in last and everything is flushed before the rename: pg_dumpall and pg_dump have synced
 * their files and dump directories; the directories made here and the manifest are synced now.
 */
async function writeManifestAndFlush(
  partial: string,
  manifest: ServerSnapshotManifest,
  hasDatabases: boolean,
): Promise<void> {
  const handle = await fs.open(serverManifestPath(partial), "wx", FILE_MODE);
  try {
    await handle.writeFile(serializeServerManifest(manifest), "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (hasDatabases) await fsyncPath(path.join(partial, DATABASES_DIR));
  await fsyncPath(partial);
}

/**
 * A server snapshot of this name that already exists: returned as is when its manifest is valid, its files
 * add up to the recorded size and it holds the companions asked for now. Anything else of that name is refused
 * rather than overwritten.
 */
async function findExistingServerSnapshot(
  layout: SnapshotLayout,
  companions: CompanionRequest | undefined,
): Promise<ServerSnapshotOutcome | undefined> {
  const finalPath = layout.finalPath("directory");
  const singleDatabase = [layout.manifestPath, layout.finalPath("custom")];
  if ((await Promise.all(singleDatabase.map(exists))).some(Boolean)) {
    throw new OperationFailed(
      `${layout.name} in ${layout.outDir} is the name of a single-database snapshot: choose another --name`,
    );
  }
  if (!(await exists(finalPath))) return undefined;
  const manifestPath = serverManifestPath(finalPath);
  const manifest = await readServerManifest(manifestPath);
  if (!isServerManifest(manifest)) {
    throw new OperationFailed(
      `${finalPath} exists but is not a usable server snapshot (${manifest.problem}): move it away or choose another --name`,
    );
  }
  let bytes = await sizeOf(path.join(finalPath, manifest.globals.file)).catch(() => -1);
  for (const database of manifest.databases)
    bytes += await sizeOf(path.join(finalPath, database.directory)).catch(() => -1);
  for (const companion of manifest.companions ?? [])
    bytes += await sizeOf(path.join(finalPath, SERVER_COMPANION_FILES[companion.kind])).catch(() => -1);
  if (manifest.name !== layout.name || bytes !== manifest.bytes) {
    throw new OperationFailed(
      `${finalPath} does not match its manifest (name ${manifest.name}, ${manifest.bytes} bytes recorded, ${bytes} ` +
        "found): move it away or choose another --name",
    );
  }
  await checkCompanionsOf(manifest.companions, companions, serverCompanionPlacement(layout.name, finalPath, finalPath));
  return { manifest, path: finalPath, manifestPath, reused: true };
}
