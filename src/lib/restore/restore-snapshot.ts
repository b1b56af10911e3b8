import path from "node:path";
import type { Client } from "pg";
import { OperationFailed } from "../errors";
import { LockLost } from "../lock/operation-lock";
import type { HeldLock } from "../lock/operation-lock";
import { checkDatabase } from "../pg/check-database";
import type { PgConnection } from "../pg/connection";
import { readRolePrivileges, restorePrivilegeProblems } from "../pg/privileges";
import { LoadedSnapshot, Refusal, checkIntegrity, checkTarget, loadSnapshot } from "../snapshot/check-snapshot";
import { companionRestoreSteps } from "../snapshot/companions";
import { SwapIncomplete, SwapNames, databaseExists, swapNames } from "./database-swap";
import { defaultSnapshotName, numberedName, snapshotLayout } from "../snapshot/layout";
import { SnapshotOutcome, snapshotNameTaken } from "../snapshot/take-snapshot";
import { verifyArchive } from "../snapshot/verify-archive";
import { abortRestoreSteps } from "./abort-restore";
import { withMaintenance } from "./maintenance";
import { JournalFile, RestoreStep, journalPath, journalsFor, startedBy } from "./restore-journal";
import { runRestoreSteps } from "./restore-steps";
import { unfinishedRestoreRefusal, waysOut } from "./ways-out";

export interface RestoreRequest {
  /** The target: the database named by PG_DSN, which must exist. */
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  /** --snapshot: DIR/NAME.dump, DIR/NAME or DIR/NAME.manifest.json. */
  readonly snapshot: string;
  /** Restore despite a sha256, database name or server version mismatch. */
  readonly force: boolean;
  /** Where the fresh snapshot of the current database and the restore's journal go; default the snapshot's directory. */
  readonly preRestoreDir?: string;
  readonly signal?: AbortSignal;
  /** Progress lines for the operator (stderr); a restore can take a while. */
  readonly progress?: (line: string) => void;
  /** The operation lock the caller holds on the target; the restore stops at its next step if it is lost. */
  readonly lock?: HeldLock;
  /** Called right after each step has happened, before the journal records it (a test hook: see the CLI). */
  readonly afterStep?: (step: RestoreStep) => void;
}

export interface RestoreOutcome {
  readonly restoredFrom: string;
  readonly database: string;
  readonly preRestoreSnapshot: SnapshotOutcome;
  /** The previous database, renamed and kept until the operator drops it. */
  readonly keptDatabase: string;
  /** The journal that recorded each step; it now says the restore completed. */
  readonly journal: string;
  /** Refusals that --force overrode. */
  readonly forced: Refusal[];
  readonly warnings: string[];
  readonly durationMs: number;
  /** How to put back the Secrets and Redis saved with the snapshot, which restore leaves alone. */
  readonly companionSteps: string[];
}

/**
 * Restores a snapshot into the database named by PG_DSN without ever dropping it:
 * checks (no unfinished restore of it, manifest, privileges, target, sha256) → journal → fresh snapshot of the
 * current database → pg_restore into a new scratch database → swap by renames (restore-steps.ts). Each step is
 * journaled so that a restore killed at any point can be finished (--resume) or undone (--abort). A failure in
 * this process undoes what was done: until the swap, that is dropping the scratch database.
 */
export async function restoreSnapshot(request: RestoreRequest): Promise<RestoreOutcome> {
  const started = Date.now();
  const say = request.progress ?? (() => undefined);
  const snapshot = await loadSnapshot(request.snapshot);
  const preRestoreDir = request.preRestoreDir ?? path.dirname(snapshot.path);
  const server = { host: request.connection.host, port: request.connection.port };
  const unfinished = (await journalsFor(preRestoreDir, server, request.connection.database)).filter(
    (found) => found.journal.status === "running",
  );
  if (unfinished.length > 0) throw new OperationFailed(unfinishedRestoreRefusal(unfinished));
  const target = await checkDatabase(request.connection);
  const database = target.database;
  const now = new Date();

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

  const stamp = now.toISOString();
  const journal = await JournalFile.create(journalPath(preRestoreDir, preRestoreName), {
    kind: "runbook-restore-journal",
    version: 1,
    status: "running",
    step: "planned",
    server,
    database,
    scratch: names.scratch,
    kept: names.kept,
    snapshot: snapshot.path,
    snapshotSha256: snapshot.manifest.sha256,
    preRestoreDir,
    preRestoreName,
    forced: request.force ? refusals.map((r) => r.message) : [],
    startedAt: stamp,
    updatedAt: stamp,
    startedBy: startedBy(),
  });
  say(`journal: ${journal.file}`);
  request.afterStep?.("planned");
  const ctx = { ...request, snapshot, say };
  let steps: Awaited<ReturnType<typeof runRestoreSteps>>;
  try {
    steps = await runRestoreSteps(ctx, journal, "planned");
  } catch (err) {
    throw await undoAfterFailure(request.connection, journal, err);
  }
  return {
    restoredFrom: snapshot.path,
    database,
    preRestoreSnapshot: steps.preRestore!,
    keptDatabase: names.kept,
    journal: journal.file,
    forced: request.force ? refusals : [],
    warnings: steps.warnings,
    durationMs: Date.now() - started,
    companionSteps: companionRestoreSteps(snapshot.manifest.companions),
  };
}

/**
 * The error to report after a step failed in this process: the steps done are undone as --abort would (the
 * target keeps its name and data; the scratch database is dropped), unless the lock was lost, when another
 * operation may be at work and the journal is left for the operator.
 */
async function undoAfterFailure(connection: PgConnection, journal: JournalFile, err: unknown): Promise<Error> {
  const message = err instanceof Error ? err.message : String(err);
  const detail = err instanceof OperationFailed ? err.detail : undefined;
  const j = journal.journal;
  if (err instanceof LockLost) return new SwapIncomplete(`${message}\n${waysOut(journal.file, j)}`, detail);
  try {
    const undone = await abortRestoreSteps(connection, journal);
    const swapStarted = undone.actions.some((a) => a.startsWith("renamed"));
    const dropped = undone.actions.find((a) => a.startsWith("dropped"));
    const note = swapStarted
      ? `${j.database} was put back as it was (${undone.actions.join("; ")})`
      : `${j.database} was not changed; ${dropped === undefined ? "no scratch database was left" : `the scratch database ${j.scratch} was dropped`}`;
    return new OperationFailed(`${message}\n${note}`, detail);
  } catch (undoErr) {
    return new SwapIncomplete(
      `${message}\nundoing it failed too (${(undoErr as Error).message})\n${waysOut(journal.file, j)}`,
      detail,
    );
  }
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
    `each step recorded in a journal next to the pre-restore snapshot, for --resume or --abort should it die halfway`,
    ...companionRestoreSteps(m.companions).map((step) => `not restored: ${step}`),
  ].join("\n");
}
