import { OperationFailed, UsageError } from "../errors";
import type { HeldLock } from "../lock/operation-lock";
import type { PgConnection } from "../pg/connection";
import { LoadedSnapshot, loadSnapshot } from "../snapshot/check-snapshot";
import { AbortOutcome, abortRestoreSteps } from "./abort-restore";
import { SwapIncomplete } from "./database-swap";
import { withMaintenance } from "./maintenance";
import {
  FoundJournal,
  JournalFile,
  RestoreJournal,
  RestoreStep,
  journalsFor,
  readJournal,
  stepIndex,
} from "./restore-journal";
import { runRestoreSteps } from "./restore-steps";
import { readSwapState, swapPosition } from "./swap-position";
import { waysOut } from "./ways-out";

export interface JournalRequest {
  /** PG_DSN: the server and the application's database the journal must be about. */
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  /** The journal file (see findJournal). */
  readonly journal: string;
  readonly signal?: AbortSignal;
  readonly progress?: (line: string) => void;
  readonly lock?: HeldLock;
  /** Called right after each step has happened, before the journal records it (a test hook: see the CLI). */
  readonly afterStep?: (step: RestoreStep) => void;
}

export interface ResumeOutcome {
  readonly journal: string;
  readonly database: string;
  readonly restoredFrom: string;
  /** The last step that was complete when the resume began. */
  readonly from: RestoreStep;
  /** The journal already said the restore completed: nothing was done. */
  readonly alreadyCompleted: boolean;
  readonly keptDatabase: string;
  readonly preRestoreSnapshot?: string;
  readonly warnings: string[];
}

export interface AbortRestoreOutcome extends AbortOutcome {
  readonly journal: string;
  readonly database: string;
  /** The journal already said the restore was aborted: nothing was done. */
  readonly alreadyAborted: boolean;
}

/**
 * Finishes a restore that stopped halfway from where the databases show it stopped: before the swap it
 * (re)takes the pre-restore snapshot and rebuilds the scratch database; after `target → kept` it renames the
 * scratch database to the target; after `scratch → target` it reopens the kept database.
 */
export async function resumeRestore(request: JournalRequest): Promise<ResumeOutcome> {
  const journal = new JournalFile(request.journal, await journalFor(request));
  const j = journal.journal;
  const done = (from: RestoreStep, alreadyCompleted: boolean, warnings: string[] = []): ResumeOutcome => ({
    journal: journal.file,
    database: j.database,
    restoredFrom: j.snapshot,
    from,
    alreadyCompleted,
    keptDatabase: j.kept,
    preRestoreSnapshot: journal.journal.preRestoreSnapshot,
    warnings,
  });
  if (j.status === "completed") return done(j.step, true);
  if (j.status === "aborted") {
    throw new OperationFailed(
      `the restore recorded in ${journal.file} was aborted (${j.updatedAt}): there is nothing to resume; ` +
        `${j.database} holds what it held before it. Start a new one with runbook restore --snapshot ${j.snapshot} --yes`,
    );
  }
  const say = request.progress ?? (() => undefined);
  const from = await withMaintenance(request.connection, async (admin) =>
    swapPosition(j, await readSwapState(admin, j)),
  );
  say(`resuming the restore of ${j.database} after step ${from} (journal: ${journal.file})`);
  const snapshot = stepIndex(from) < stepIndex("scratch-restored") ? await snapshotOf(j) : undefined;
  try {
    const steps = await runRestoreSteps({ ...request, snapshot, say }, journal, from);
    return done(from, false, steps.warnings);
  } catch (err) {
    const detail = err instanceof OperationFailed ? err.detail : undefined;
    throw new SwapIncomplete(`${(err as Error).message}\n${waysOut(journal.file, journal.journal)}`, detail);
  }
}

/** Puts the previous database back under the application's name (abort-restore.ts) and marks the journal aborted. */
export async function abortRestore(request: JournalRequest): Promise<AbortRestoreOutcome> {
  const journal = new JournalFile(request.journal, await journalFor(request));
  const j = journal.journal;
  if (j.status === "aborted") {
    return {
      journal: journal.file,
      database: j.database,
      alreadyAborted: true,
      from: j.abortedFrom ?? j.step,
      actions: [],
    };
  }
  const outcome = await abortRestoreSteps(request.connection, journal);
  return { ...outcome, journal: journal.file, database: j.database, alreadyAborted: false };
}

/**
 * The journal to resume or abort: the file named, or the one unfinished restore of PG_DSN's database recorded
 * in a directory (else the latest finished one, which then reports how it ended).
 */
export async function findJournal(
  connection: PgConnection,
  where: { readonly journal?: string; readonly snapshotDir?: string },
): Promise<string> {
  if (where.journal !== undefined) return where.journal;
  const dir = where.snapshotDir!;
  const found = await journalsFor(dir, { host: connection.host, port: connection.port }, connection.database);
  const unfinished = found.filter((f) => f.journal.status === "running");
  if (unfinished.length > 1) {
    throw new OperationFailed(
      `${unfinished.length} unfinished restores of ${connection.database} are recorded in ${dir}: ` +
        `${unfinished.map((f) => f.file).join(", ")}; name one with --journal PATH`,
    );
  }
  const chosen: FoundJournal | undefined = unfinished[0] ?? found[found.length - 1];
  if (chosen === undefined) {
    throw new UsageError(
      `no restore journal of database ${connection.database} on ${connection.host}:${connection.port} is in ${dir}: ` +
        `give the directory the restore's pre-restore snapshot went to (--pre-restore-dir, else the snapshot's), or --journal PATH`,
    );
  }
  return chosen.file;
}

/** Reads the journal and checks it is about the server and database PG_DSN names. */
async function journalFor(request: JournalRequest): Promise<RestoreJournal> {
  const j = await readJournal(request.journal);
  const c = request.connection;
  if (j.database !== c.database || j.server.host !== c.host || j.server.port !== c.port) {
    throw new UsageError(
      `${request.journal} records a restore of ${j.database} on ${j.server.host}:${j.server.port}, but PG_DSN names ` +
        `${c.database} on ${c.host}:${c.port}: set PG_DSN as for that restore`,
    );
  }
  return j;
}

async function snapshotOf(j: RestoreJournal): Promise<LoadedSnapshot> {
  const snapshot = await loadSnapshot(j.snapshot);
  if (snapshot.manifest.sha256 !== j.snapshotSha256) {
    throw new OperationFailed(
      `${j.snapshot} is no longer the snapshot the restore began with (sha256 ${snapshot.manifest.sha256}, the journal ` +
        `says ${j.snapshotSha256}); nothing was changed. Abort with runbook restore --abort --journal PATH and start again`,
    );
  }
  return snapshot;
}
