import { OperationFailed, UsageError } from "../errors";
import type { HeldLock } from "../lock/operation-lock";
import { PgConnection, withDatabase } from "../pg/connection";
import { findServerSnapshot } from "../snapshot/server-snapshot-files";
import { endOrphanedStatements } from "./orphaned-statements";
import { journalsFor } from "./restore-journal";
import { abortRestore } from "./resume-restore";
import { ServerRestoreOutcome, entriesOf, outcome, runServerSteps, serverWaysOut } from "./server-restore";
import { ServerJournalFile, readServerJournal, serverJournalsIn } from "./server-restore-journal";

export interface ServerJournalRequest {
  /** PG_DSN: any database of the server the journal is about. */
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly journal: string;
  readonly signal?: AbortSignal;
  readonly progress?: (line: string) => void;
  readonly lock?: HeldLock;
  readonly afterStep?: (step: string) => void;
}

export interface ServerResumeOutcome extends ServerRestoreOutcome {
  readonly alreadyCompleted: boolean;
}

export interface ServerAbortOutcome {
  readonly journal: string;
  readonly alreadyAborted: boolean;
  /** What the abort did to the database whose restore was under way. */
  readonly actions: string[];
  /** Databases this restore had finished: they stay restored. */
  readonly restored: { name: string; keptDatabase?: string; preRestoreSnapshot?: string }[];
  /** Databases that were missing and that this restore created, left as they are. */
  readonly created: string[];
}

/** The server restore journal to resume or abort: the file named, or the unfinished one of this server in DIR. */
export async function findServerJournal(
  connection: PgConnection,
  where: { readonly journal?: string; readonly snapshotDir?: string },
): Promise<string | undefined> {
  if (where.journal !== undefined) return where.journal;
  const found = await serverJournalsIn(where.snapshotDir!, { host: connection.host, port: connection.port });
  return found.filter((f) => f.journal.status === "running").pop()?.file;
}

/** The database names a server restore journal covers: what its resume or abort locks. */
export async function databasesOfServerJournal(file: string): Promise<string[]> {
  return (await readServerJournal(file)).databases.map((d) => d.name);
}

/** Finishes a server restore that stopped: the roles if not done, then every database not restored yet. */
export async function resumeServerRestore(request: ServerJournalRequest): Promise<ServerResumeOutcome> {
  const started = Date.now();
  const journal = new ServerJournalFile(request.journal, await journalFor(request));
  const j = journal.journal;
  const server = await findServerSnapshot(j.snapshot);
  if (server === undefined) throw new OperationFailed(`${j.snapshot}, which ${request.journal} restores, is gone`);
  const selected = entriesOf(
    server,
    j.databases.map((d) => d.name),
  );
  if (j.status === "aborted") {
    throw new OperationFailed(
      `the server restore recorded in ${journal.file} was aborted (${j.updatedAt}): there is nothing to resume; ` +
        `start a new one with runbook restore --snapshot ${j.snapshot} --yes`,
    );
  }
  if (j.status === "completed") {
    return { ...outcome(journal, server, selected, started, j.forced), alreadyCompleted: true };
  }
  if (server.manifest.sha256 !== j.snapshotSha256) {
    throw new OperationFailed(
      `${j.snapshot} is no longer the snapshot the restore began with (sha256 ${server.manifest.sha256}, the journal ` +
        `says ${j.snapshotSha256}); abort with runbook restore --abort --journal ${journal.file}`,
    );
  }
  const say = request.progress ?? (() => undefined);
  const left = j.databases.filter((d) => d.state !== "restored").map((d) => d.name);
  say(`resuming the server restore of ${j.snapshot} (journal ${journal.file}); left: ${left.join(", ") || "none"}`);
  try {
    await runServerSteps({ ...request, snapshot: server, say }, journal);
  } catch (err) {
    const detail = err instanceof OperationFailed ? err.detail : undefined;
    throw new OperationFailed(`${(err as Error).message}\n${serverWaysOut(journal.file)}`, detail);
  }
  return { ...outcome(journal, server, selected, started, j.forced), alreadyCompleted: false };
}

/**
 * Stops a server restore: the database whose restore was under way is put back as it was (its own --abort);
 * the databases already restored stay restored (each keeps its previous copy and pre-restore snapshot, named in
 * the outcome), those not reached are left alone, and the journal is marked aborted.
 */
export async function abortServerRestore(request: ServerJournalRequest): Promise<ServerAbortOutcome> {
  const journal = new ServerJournalFile(request.journal, await journalFor(request));
  const j = journal.journal;
  const restored = j.databases
    .filter((d) => d.state === "restored")
    .map((d) => ({ name: d.name, keptDatabase: d.keptDatabase, preRestoreSnapshot: d.preRestoreSnapshot }));
  const created = j.databases.filter((d) => !d.existed && d.state !== "pending").map((d) => d.name);
  if (j.status === "aborted") return { journal: journal.file, alreadyAborted: true, actions: [], restored, created };
  if (j.status === "completed") {
    throw new OperationFailed(
      `the server restore recorded in ${journal.file} completed at ${j.updatedAt}; there is nothing to abort. Each ` +
        `database's previous copy is kept under the name its journal records; restore its pre-restore snapshot to go back`,
    );
  }
  const actions: string[] = [];
  for (const database of j.databases.filter((d) => d.state === "restoring")) {
    const running = (await journalsFor(j.preRestoreDir, j.server, database.name)).filter(
      (f) => f.journal.status === "running" && f.journal.startedAt >= j.startedAt,
    );
    for (const found of running) {
      actions.push(...(await endOrphanedStatements(withDatabase(request.connection, database.name), found.journal)));
      const undone = await abortRestore({
        connection: withDatabase(request.connection, database.name),
        parentEnv: request.parentEnv,
        journal: found.file,
        lock: request.lock,
      });
      actions.push(...undone.actions.map((a) => `${database.name}: ${a}`));
      if (undone.restoredCopyKept !== undefined) {
        actions.push(`${database.name}: the restored copy is kept as ${undone.restoredCopyKept}`);
      }
    }
  }
  await journal.update({ status: "aborted" });
  return { journal: journal.file, alreadyAborted: false, actions, restored, created };
}

async function journalFor(request: ServerJournalRequest) {
  const j = await readServerJournal(request.journal);
  const c = request.connection;
  if (j.server.host !== c.host || j.server.port !== c.port) {
    throw new UsageError(
      `${request.journal} records a server restore onto ${j.server.host}:${j.server.port}, but PG_DSN names ` +
        `${c.host}:${c.port}: set PG_DSN as for that restore`,
    );
  }
  return j;
}
