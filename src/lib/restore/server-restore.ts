import path from "node:path";
import { OperationFailed, UsageError } from "../errors";
import { HeldLock, LockLost } from "../lock/operation-lock";
import { checkDatabase } from "../pg/check-database";
import { PgConnection, withDatabase } from "../pg/connection";
import { createDatabaseStatement, grantStatements, settingStatements } from "../pg/database-properties";
import { majorOfVersionNum } from "../pg/versions";
import type { ServerDatabaseEntry } from "../snapshot/server-manifest";
import { LoadedServerSnapshot, checkGlobals, databaseSnapshot } from "../snapshot/server-snapshot-files";
import { verifyArchive } from "../snapshot/verify-archive";
import { databaseExists } from "./database-swap";
import { runStatement, withMaintenance } from "./maintenance";
import { endOrphanedStatements } from "./orphaned-statements";
import { journalsFor } from "./restore-journal";
import type { RestoreStep } from "./restore-journal";
import { restoreSnapshot } from "./restore-snapshot";
import { resumeRestore } from "./resume-restore";
import { createRoles, missingRoles, readSavedGlobals, rolesNeededBy } from "./server-roles";
import { maintenanceNote, selectDatabases } from "./server-restore-plan";
import {
  ServerJournalFile,
  ServerRestoreDatabase,
  newServerJournal,
  serverJournalPath,
  serverJournalsIn,
} from "./server-restore-journal";

export interface ServerRestoreRequest {
  /** PG_DSN: any database of the server to restore onto. */
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly snapshot: LoadedServerSnapshot;
  /** --database: restore only these; none given means all but postgres. */
  readonly databases: readonly string[];
  /** Restore despite a sha256 or server major version mismatch. */
  readonly force: boolean;
  /** Where the pre-restore snapshots and the journals go; default the directory holding the server snapshot. */
  readonly preRestoreDir?: string;
  readonly signal?: AbortSignal;
  readonly progress?: (line: string) => void;
  /** The operation locks of every database restored, held by the caller on one session. */
  readonly lock?: HeldLock;
  /**
   * Called after each step: the server restore's own (`roles-created`, `<db>:created`, `<db>:restored`) and
   * each database restore's, both bare (`scratch-restored`) and as `<db>:<step>` (a test hook: see the CLI).
   */
  readonly afterStep?: (step: string) => void;
}

export interface RestoredDatabase {
  readonly name: string;
  /** It was missing and was created (empty, with the snapshot's owner, grants and settings) before the restore. */
  readonly created: boolean;
  readonly keptDatabase?: string;
  readonly preRestoreSnapshot?: string;
  readonly journal?: string;
}

export interface ServerRestoreOutcome {
  readonly restoredFrom: string;
  readonly journal: string;
  readonly databases: RestoredDatabase[];
  readonly rolesCreated: string[];
  /** The roles were saved without passwords: the created ones that log in need one set. */
  readonly rolesWithoutPasswords: boolean;
  readonly forced: string[];
  readonly notes: string[];
  readonly warnings: string[];
  readonly durationMs: number;
}

/**
 * Restores the databases of a server snapshot, two at a time, each through the single-database restore
 * (pre-restore snapshot, scratch database, swap by renames, its own journal). Before them, the roles they need
 * that the server lacks are created from the snapshot's globals; a database the server lacks is first created
 * empty with the snapshot's owner, encoding, locale, grants and settings, so that the same restore swaps the
 * restored copy in. A server journal records which databases are done, for --resume and --abort.
 */
export async function restoreServerSnapshot(request: ServerRestoreRequest): Promise<ServerRestoreOutcome> {
  const started = Date.now();
  const say = request.progress ?? (() => undefined);
  const server = request.snapshot;
  const selected = selectDatabases(server, request.databases);
  const preRestoreDir = request.preRestoreDir ?? path.dirname(server.path);
  const where = { host: request.connection.host, port: request.connection.port };
  await refuseUnfinished(preRestoreDir, where, selected);

  const refusals: string[] = [];
  const globalsProblem = await checkGlobals(server);
  if (globalsProblem !== undefined) refusals.push(globalsProblem);
  const facts = await checkDatabase(request.connection);
  const [snapshotMajor, targetMajor] = [server.manifest.serverVersionNum, facts.serverVersionNum].map(
    majorOfVersionNum,
  );
  if (snapshotMajor !== targetMajor) {
    refusals.push(
      `the snapshot was taken from PostgreSQL ${server.manifest.serverVersion}, the server runs ${facts.serverVersion}`,
    );
  }
  if (refusals.length > 0 && !request.force) {
    throw new OperationFailed(
      `refusing to restore: ${refusals.join("; ")}. Pass --force to restore anyway; nothing was changed`,
    );
  }
  // Every dump readable before anything changes; each is a short pg_restore --list, so all at once.
  await Promise.all(
    selected.map((entry) => verifyArchive(path.join(server.path, entry.directory), request.parentEnv, request.signal)),
  );
  const present = await withMaintenance(request.connection, async (admin) => {
    const found = new Set<string>();
    for (const entry of selected) if (await databaseExists(admin, entry.name)) found.add(entry.name);
    return found;
  });
  const journal = await ServerJournalFile.create(
    serverJournalPath(preRestoreDir, server.manifest.name, new Date()),
    newServerJournal({
      server: where,
      snapshot: server.path,
      snapshotSha256: server.manifest.sha256,
      preRestoreDir,
      rolesCreated: [],
      databases: selected.map((d) => ({ name: d.name, existed: present.has(d.name), state: "pending" })),
      forced: request.force ? refusals : [],
    }),
  );
  say(`server restore journal: ${journal.file}`);
  try {
    await runServerSteps({ ...request, say }, journal);
  } catch (err) {
    throw await stoppedHalfway(err, journal);
  }
  return outcome(journal, server, selected, started, request.force ? refusals : []);
}

interface ServerStepContext extends Omit<ServerRestoreRequest, "databases" | "force" | "preRestoreDir"> {
  readonly say: (line: string) => void;
}

/**
 * The server restore's steps from wherever its journal stands: the roles (created only when missing, so they
 * can run again), then each database not yet restored, resuming a database restore that a crash left unfinished.
 */
async function runServerSteps(ctx: ServerStepContext, journal: ServerJournalFile): Promise<void> {
  const server = ctx.snapshot;
  const entries = new Map(server.manifest.databases.map((d) => [d.name, d]));
  const entryOf = (name: string): ServerDatabaseEntry => entries.get(name)!;
  if (journal.journal.step === "planned") {
    ctx.lock?.assertHeld();
    const created = await createMissingRoles(
      ctx,
      journal.journal.databases.map((d) => entryOf(d.name)),
    );
    await journal.update({ step: "roles-created", rolesCreated: created });
    ctx.afterStep?.("roles-created");
  }
  // Largest first, so that the small ones fill in at the end while the last large one finishes.
  const queue = journal.journal.databases
    .filter((d) => d.state !== "restored")
    .sort((a, b) => entryOf(b.name).bytes - entryOf(a.name).bytes);
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined && failure === undefined; next = queue.shift()) {
      const database = next;
      try {
        ctx.lock?.assertHeld();
        if (ctx.signal?.aborted) throw ctx.signal.reason;
        await restoreOne(ctx, journal, database, entryOf(database.name), (line) =>
          ctx.say(`${database.name}: ${line}`),
        );
      } catch (err) {
        // The other database under way finishes (or fails and undoes itself); no new one starts.
        failure ??= { err };
      }
    }
  };
  // Each pre-restore snapshot sets the process umask to 077 and puts back what it found; two overlapping would
  // put back each other's, so it is 077 for the whole run.
  const previousUmask = process.umask(0o077);
  try {
    await Promise.all(Array.from({ length: Math.min(DATABASES_AT_ONCE, queue.length) }, worker));
  } finally {
    process.umask(previousUmask);
  }
  if (failure !== undefined) throw failure.err;
  await journal.update({ step: "databases-restored", status: "completed" });
}

/**
 * How many databases are restored at the same time, each by its own restore (pg_restore --jobs 2). Two keep
 * both cores busy while one restore is in its serial steps (the pre-restore snapshot, creating, swapping) or
 * loading one large table; more would only add connections.
 */
const DATABASES_AT_ONCE = 2;

async function createMissingRoles(ctx: ServerStepContext, entries: readonly ServerDatabaseEntry[]): Promise<string[]> {
  const server = ctx.snapshot;
  const globals = await readSavedGlobals(path.join(server.path, server.manifest.globals.file));
  const perDatabase = await Promise.all(
    entries.map((entry) =>
      rolesNeededBy(path.join(server.path, entry.directory), entry.properties, globals, ctx.parentEnv, ctx.signal),
    ),
  );
  const needed = new Set(perDatabase.flatMap((roles) => [...roles]));
  return withMaintenance(ctx.connection, async (admin, c) => {
    const { create, unknown } = await missingRoles(admin, needed, globals);
    if (unknown.length > 0) {
      throw new OperationFailed(
        `the roles ${unknown.join(", ")} are needed by the databases to restore but are neither on the server nor ` +
          `in ${server.manifest.globals.file} of the snapshot: create them first`,
      );
    }
    if (create.length > 0) ctx.say(`creating roles from the snapshot: ${create.join(", ")}`);
    await createRoles(admin, c, create, globals);
    return create;
  });
}

async function restoreOne(
  ctx: ServerStepContext,
  journal: ServerJournalFile,
  database: ServerRestoreDatabase,
  entry: ServerDatabaseEntry,
  say: (line: string) => void,
): Promise<void> {
  const name = database.name;
  const connection = withDatabase(ctx.connection, name);
  const afterStep = (step: RestoreStep): void => {
    ctx.afterStep?.(step);
    ctx.afterStep?.(`${name}:${step}`);
  };
  const dumpPath = path.join(ctx.snapshot.path, entry.directory);
  const common = { connection, parentEnv: ctx.parentEnv, signal: ctx.signal, progress: say, lock: ctx.lock, afterStep };
  if (database.state === "restoring") {
    // Its own restore began: finish it if its journal is unfinished, else it ended (completed, or undone).
    const mine = (await journalsFor(journal.journal.preRestoreDir, journal.journal.server, name)).filter(
      (found) => found.journal.startedAt >= journal.journal.startedAt && found.journal.snapshot === dumpPath,
    );
    const last = mine[mine.length - 1];
    if (last?.journal.status === "running") {
      for (const line of await endOrphanedStatements(connection, last.journal)) say(line);
      const resumed = await resumeRestore({ ...common, journal: last.file });
      await journal.updateDatabase(name, {
        state: "restored",
        journal: last.file,
        keptDatabase: resumed.keptDatabase,
        preRestoreSnapshot: resumed.preRestoreSnapshot,
      });
      ctx.afterStep?.(`${name}:restored`);
      return;
    }
    if (last?.journal.status === "completed") {
      await journal.updateDatabase(name, {
        state: "restored",
        journal: last.file,
        keptDatabase: last.journal.kept,
        preRestoreSnapshot: last.journal.preRestoreSnapshot,
      });
      ctx.afterStep?.(`${name}:restored`);
      return;
    }
  }
  const exists = await withMaintenance(ctx.connection, (admin) => databaseExists(admin, name));
  if (!exists) {
    say(`missing on the server: creating it empty, owned by ${entry.properties.owner}, to restore over`);
    await createFromSnapshot(ctx.connection, name, entry);
    await journal.updateDatabase(name, { state: "created" });
    ctx.afterStep?.(`${name}:created`);
  }
  await journal.updateDatabase(name, { state: "restoring" });
  const restored = await restoreSnapshot({
    ...common,
    snapshot: dumpPath,
    force: journal.journal.forced.length > 0,
    preRestoreDir: journal.journal.preRestoreDir,
  });
  await journal.updateDatabase(name, {
    state: "restored",
    journal: restored.journal,
    keptDatabase: restored.keptDatabase,
    preRestoreSnapshot: restored.preRestoreSnapshot.path,
  });
  ctx.afterStep?.(`${name}:restored`);
}

/** CREATE DATABASE with the snapshot's owner, encoding, locale and connection limit, then its grants and settings. */
async function createFromSnapshot(connection: PgConnection, name: string, entry: ServerDatabaseEntry): Promise<void> {
  await withMaintenance(connection, async (admin, c) => {
    const p = entry.properties;
    const statements = [
      createDatabaseStatement(admin, name, p),
      ...grantStatements(admin, name, p),
      ...settingStatements(admin, name, p),
    ];
    for (const sql of statements) await runStatement(admin, c, `creating database ${name} as the snapshot had it`, sql);
  });
}

async function refuseUnfinished(
  dir: string,
  server: { host: string; port: number },
  selected: readonly ServerDatabaseEntry[],
): Promise<void> {
  const running = (await serverJournalsIn(dir, server)).filter((f) => f.journal.status === "running");
  if (running.length > 0) {
    const file = running[running.length - 1].file;
    throw new OperationFailed(
      `an unfinished server restore is recorded in ${file} (started ${running[running.length - 1].journal.startedAt}): ` +
        `${serverWaysOut(file)}; nothing was changed`,
    );
  }
  for (const entry of selected) {
    const unfinished = (await journalsFor(dir, server, entry.name)).filter((f) => f.journal.status === "running");
    if (unfinished.length > 0) {
      throw new OperationFailed(
        `an unfinished restore of database ${entry.name} is recorded in ${unfinished[0].file}: finish it with ` +
          `\`runbook restore --resume --journal ${unfinished[0].file}\` (PG_DSN naming ${entry.name}) or abort it ` +
          `with --abort first; nothing was changed`,
      );
    }
  }
}

export function serverWaysOut(file: string): string {
  return (
    `finish it with \`runbook restore --resume --journal ${file}\`, or stop it with \`runbook restore --abort ` +
    `--journal ${file}\` (which puts back the databases whose restores were under way; those already restored stay so)`
  );
}

/**
 * The error after a step failed in this process. A database restore that failed has undone itself; when nothing
 * at all had changed yet (no role created, no database touched) the journal is closed as aborted, so that a new
 * restore can start; otherwise it stays open for --resume or --abort.
 */
async function stoppedHalfway(err: unknown, journal: ServerJournalFile): Promise<Error> {
  const message = err instanceof Error ? err.message : String(err);
  const detail = err instanceof OperationFailed ? err.detail : undefined;
  const j = journal.journal;
  const untouched = j.rolesCreated.length === 0 && j.databases.every((d) => d.state === "pending");
  if (untouched && !(err instanceof LockLost)) {
    await journal.update({ status: "aborted" }).catch(() => undefined);
    return new OperationFailed(
      `${message}
nothing was changed`,
      detail,
    );
  }
  const restored = journal.journal.databases.filter((d) => d.state === "restored").map((d) => d.name);
  return new OperationFailed(
    `${message}\nthe server restore stopped; restored so far: ${restored.length === 0 ? "none" : restored.join(", ")}. ` +
      `Its journal is ${journal.file}: ${serverWaysOut(journal.file)}`,
    detail,
  );
}

export function outcome(
  journal: ServerJournalFile,
  server: LoadedServerSnapshot,
  selected: readonly ServerDatabaseEntry[],
  started: number,
  forced: string[],
): ServerRestoreOutcome {
  const j = journal.journal;
  const rolesWithoutPasswords = !server.manifest.globals.rolePasswords;
  return {
    restoredFrom: server.path,
    journal: journal.file,
    databases: j.databases.map((d) => ({
      name: d.name,
      created: !d.existed,
      keptDatabase: d.keptDatabase,
      preRestoreSnapshot: d.preRestoreSnapshot,
      journal: d.journal,
    })),
    rolesCreated: j.rolesCreated,
    rolesWithoutPasswords,
    forced,
    notes: maintenanceNote(server, selected),
    warnings:
      rolesWithoutPasswords && j.rolesCreated.length > 0
        ? [
            `the snapshot holds no role passwords: set those of the created roles that log in (ALTER ROLE name PASSWORD ...) from the application's Secrets`,
          ]
        : [],
    durationMs: Date.now() - started,
  };
}

/** For describeServerRestore and the CLI: the entries of the databases a journal lists. */
export function entriesOf(server: LoadedServerSnapshot, names: readonly string[]): ServerDatabaseEntry[] {
  return names.map((name) => {
    const entry = server.manifest.databases.find((d) => d.name === name);
    if (entry === undefined) throw new UsageError(`${server.manifestPath} no longer lists database ${name}`);
    return entry;
  });
}

export { databaseSnapshot, runServerSteps };
export type { ServerStepContext };
