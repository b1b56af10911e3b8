import path from "node:path";
import type { Client } from "pg";
import { OperationFailed } from "../errors";
import { checkDatabase } from "../pg/check-database";
import { connectClient } from "../pg/client";
import { PgConnection, withDatabase } from "../pg/connection";
import {
  createDatabaseStatement,
  grantStatements,
  readDatabaseProperties,
  settingStatements,
} from "../pg/database-properties";
import { queryFailed } from "../pg/errors";
import { readRolePrivileges, restorePrivilegeProblems } from "../pg/privileges";
import { LoadedSnapshot, Refusal, checkIntegrity, checkTarget, loadSnapshot } from "../snapshot/check-snapshot";
import { companionRestoreSteps } from "../snapshot/companions";
import {
  SwapIncomplete,
  SwapNames,
  databaseExists,
  dropScratchDatabase,
  swapDatabases,
  swapNames,
} from "./database-swap";
import { defaultSnapshotName, numberedName, snapshotLayout } from "../snapshot/layout";
import { restoreArchive } from "./restore-archive";
import { SnapshotOutcome, snapshotNameTaken, takeSnapshot } from "../snapshot/take-snapshot";
import { verifyArchive } from "../snapshot/verify-archive";

export interface RestoreRequest {
  /** The target: the database named by PG_DSN, which must exist. */
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  /** --snapshot: DIR/NAME.dump, DIR/NAME or DIR/NAME.manifest.json. */
  readonly snapshot: string;
  /** Restore despite a sha256, database name or server version mismatch. */
  readonly force: boolean;
  /** Where the fresh snapshot of the current database goes; default the snapshot's directory. */
  readonly preRestoreDir?: string;
  readonly signal?: AbortSignal;
  /** Progress lines for the operator (stderr); a restore can take a while. */
  readonly progress?: (line: string) => void;
}

export interface RestoreOutcome {
  readonly restoredFrom: string;
  readonly database: string;
  readonly preRestoreSnapshot: SnapshotOutcome;
  /** The previous database, renamed and kept until the operator drops it. */
  readonly keptDatabase: string;
  /** Refusals that --force overrode. */
  readonly forced: Refusal[];
  readonly warnings: string[];
  readonly durationMs: number;
  /** How to put back the Secrets and Redis saved with the snapshot, which restore leaves alone. */
  readonly companionSteps: string[];
}

/** Databases the restore can connect to for CREATE/ALTER DATABASE; never the target, which gets renamed. */
const MAINTENANCE_DATABASES = ["postgres", "template1"];

/**
 * Restores a snapshot into the database named by PG_DSN without ever dropping it:
 * checks (manifest, privileges, target, sha256) → fresh snapshot of the current database → pg_restore into a
 * new scratch database → swap (see database-swap.ts). Until the swap, the target is untouched; a failure
 * drops only the scratch database.
 */
export async function restoreSnapshot(request: RestoreRequest): Promise<RestoreOutcome> {
  const started = Date.now();
  const say = request.progress ?? (() => undefined);
  const snapshot = await loadSnapshot(request.snapshot);
  const target = await checkDatabase(request.connection);
  const database = target.database;
  const now = new Date();
  const preRestoreDir = request.preRestoreDir ?? path.dirname(snapshot.path);

  const { refusals, names, preRestoreName } = await withMaintenance(
    request.connection,
    async (admin, adminConnection) => {
      const problems = restorePrivilegeProblems(await readRolePrivileges(admin, adminConnection, database), database);
      if (problems.length > 0) throw new OperationFailed(`${problems.join("\n")}\nnothing was changed`);
      const unused = await unusedNames(admin, database, now, preRestoreDir);
      await verifyArchive(snapshot.path, request.parentEnv, request.signal);
      say(`checking the sha256 of ${snapshot.path}`);
      const found = checkTarget(snapshot.manifest, target);
      const integrity = await checkIntegrity(snapshot);
      return { refusals: integrity === undefined ? found : [integrity, ...found], ...unused };
    },
  );
  if (refusals.length > 0 && !request.force) {
    throw new OperationFailed(
      `refusing to restore: ${refusals.map((r) => r.message).join("; ")}. Pass --force to restore anyway; nothing was changed`,
      { refusals },
    );
  }

  say(`taking a snapshot of the current ${database} first`);
  const preRestore = await takeSnapshot({
    connection: request.connection,
    parentEnv: request.parentEnv,
    outDir: preRestoreDir,
    name: preRestoreName,
    format: "directory",
    jobs: 2,
    compress: 1,
    context: { reason: "pre-restore", restoringFrom: snapshot.path, restoringSha256: snapshot.manifest.sha256 },
    signal: request.signal,
  });
  say(`pre-restore snapshot: ${preRestore.path}`);

  say(`restoring into scratch database ${names.scratch}`);
  // Each phase opens its own maintenance connection: one held idle through a long pg_restore could be cut.
  const properties = await withMaintenance(request.connection, async (admin, adminConnection) => {
    const found = await readDatabaseProperties(admin, adminConnection, database);
    const create = createDatabaseStatement(admin, names.scratch, found);
    await runStatement(admin, adminConnection, `creating scratch database ${names.scratch}`, create).catch(
      (err: Error) => {
        throw new OperationFailed(`${err.message}\n${database} was not changed`);
      },
    );
    return found;
  });
  let swapped: { warnings: string[] };
  try {
    await restoreArchive(withDatabase(request.connection, names.scratch), snapshot, request.parentEnv, request.signal);
    if (request.signal?.aborted) throw request.signal.reason;
    swapped = await withMaintenance(request.connection, async (admin, adminConnection) => {
      for (const sql of [
        ...grantStatements(admin, names.scratch, properties),
        ...settingStatements(admin, names.scratch, properties),
      ]) {
        await runStatement(admin, adminConnection, `copying privileges and settings of ${database}`, sql);
      }
      say(`swapping: ${database} → ${names.kept}, ${names.scratch} → ${database}`);
      return swapDatabases(admin, adminConnection, database, names);
    });
  } catch (err) {
    if (err instanceof SwapIncomplete) throw err;
    const dropProblem = await withMaintenance(request.connection, (admin, adminConnection) =>
      dropScratchDatabase(admin, adminConnection, names.scratch),
    ).then(
      () => undefined,
      (dropErr: Error) => dropErr.message,
    );
    const note = `${database} was not changed; ${dropProblem ?? `the scratch database ${names.scratch} was dropped`}`;
    const message = err instanceof Error ? err.message : String(err);
    throw new OperationFailed(`${message}\n${note}`, err instanceof OperationFailed ? err.detail : undefined);
  }
  return {
    restoredFrom: snapshot.path,
    database,
    preRestoreSnapshot: preRestore,
    keptDatabase: names.kept,
    forced: request.force ? refusals : [],
    warnings: swapped.warnings,
    durationMs: Date.now() - started,
    companionSteps: companionRestoreSteps(snapshot.manifest.companions),
  };
}

const NAME_ATTEMPTS = 20;

/**
 * The scratch and kept database names and the pre-restore snapshot's name for this restore, none of them taken:
 * a second restore of the same database within the same second must neither collide with the first one's
 * databases nor reuse its pre-restore snapshot (which would not hold what changed since).
 */
async function unusedNames(
  admin: Client,
  database: string,
  now: Date,
  preRestoreDir: string,
): Promise<{ names: SwapNames; preRestoreName: string }> {
  for (let attempt = 1; attempt <= NAME_ATTEMPTS; attempt++) {
    const names = swapNames(database, now, attempt);
    const preRestoreName = numberedName(defaultSnapshotName(`${database}-pre-restore`, now), attempt);
    const taken =
      (await databaseExists(admin, names.scratch)) ||
      (await databaseExists(admin, names.kept)) ||
      (await snapshotNameTaken(snapshotLayout(preRestoreDir, preRestoreName)));
    if (!taken) return { names, preRestoreName };
  }
  throw new OperationFailed(
    `${NAME_ATTEMPTS} restores of ${database} within one second already left their databases: drop the ` +
      `${database}_pre_restore_* and ${database}_restore_* databases you no longer need; nothing was changed`,
  );
}

/** What the restore would do, for a run without --yes; reads the manifest but changes and connects to nothing. */
export async function describeRestore(
  request: Pick<RestoreRequest, "connection" | "snapshot" | "preRestoreDir">,
): Promise<string> {
  const snapshot: LoadedSnapshot = await loadSnapshot(request.snapshot);
  const m = snapshot.manifest;
  const database = request.connection.database;
  const names = swapNames(database, new Date());
  const target = `${database} on ${request.connection.host}:${request.connection.port}`;
  return [
    `would restore ${snapshot.path} (${m.format}, taken ${m.createdAt} from ${m.source.database}, PostgreSQL ${m.serverVersion}) into ${target}:`,
    `  1. check its sha256 against ${snapshot.manifestPath}, the database name and the server version`,
    `  2. snapshot the current ${database} into ${request.preRestoreDir ?? path.dirname(snapshot.path)}`,
    `  3. restore into a new database ${names.scratch.replace(/_\d{8}_\d{6}$/, "_<time>")}`,
    `  4. rename ${database} to ${names.kept.replace(/_\d{8}_\d{6}$/, "_<time>")} (kept) and the restored database to ${database}`,
    ...companionRestoreSteps(m.companions).map((step) => `not restored: ${step}`),
  ].join("\n");
}

/**
 * Runs work on a connection to another database of the same server (CREATE/ALTER DATABASE on the target
 * cannot run while connected to it), closing the connection afterwards.
 */
async function withMaintenance<T>(
  connection: PgConnection,
  work: (admin: Client, adminConnection: PgConnection) => Promise<T>,
): Promise<T> {
  let firstError: unknown;
  for (const name of MAINTENANCE_DATABASES.filter((n) => n !== connection.database)) {
    const adminConnection = withDatabase(connection, name);
    let admin: Client;
    try {
      admin = await connectClient(adminConnection);
    } catch (err) {
      firstError ??= err; // no CONNECT on postgres, or it was dropped: try the next
      continue;
    }
    try {
      return await work(admin, adminConnection);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
  throw firstError;
}

async function runStatement(admin: Client, connection: PgConnection, what: string, sql: string): Promise<void> {
  try {
    await admin.query(sql);
  } catch (err) {
    throw queryFailed(what, err, connection);
  }
}
