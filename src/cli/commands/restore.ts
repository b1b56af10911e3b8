import type { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { withOperationLock } from "../../lib/lock/operation-lock";
import { connectionFromEnv } from "../../lib/pg/connection";
import { withInterruption } from "../../lib/snapshot/interruption";
import { RestoreOutcome, describeRestore, restoreSnapshot } from "../../lib/restore/restore-snapshot";
import {
  AbortRestoreOutcome,
  ResumeOutcome,
  abortRestore,
  findJournal,
  resumeRestore,
} from "../../lib/restore/resume-restore";
import { optionalString } from "../flags";
import { crashAfterStep } from "../test-hooks";
import { findServerSnapshot } from "../../lib/snapshot/server-snapshot-files";
import { findServerJournal } from "../../lib/restore/server-restore-finish";
import { isServerJournalFile } from "../../lib/restore/server-restore-journal";
import { SERVER_RESTORE_HELP, finishServerRestore, runServerRestore } from "./restore-server";

const help = `usage: runbook restore --snapshot PATH --yes [options]
       runbook restore --resume (--journal PATH | --snapshot-dir DIR) [--json]
       runbook restore --abort (--journal PATH | --snapshot-dir DIR) [--json]

Restores a snapshot taken by 'runbook snapshot' into the database named by PG_DSN, which must exist.
Without --yes it prints what it would do, changes nothing and exits 2.

With --yes, in order:
  1. checks: the manifest next to the snapshot, the role's privileges (CREATEDB and ownership of the
     database, or superuser), pg_restore --list, and refuses when the snapshot's sha256 differs from its
     manifest, it is of another database name, or of another server major version (unless --force)
  2. takes a fresh snapshot of the current database (directory format) and reports its path
  3. creates a scratch database <db>_restore_<time> with the target's owner, encoding, locale and tablespace,
     pg_restore's the snapshot into it (stopping at the first error; parallel for directory format) and
     copies the target's GRANTs and ALTER DATABASE settings onto it
  4. swaps: closes the target to new connections, terminates its sessions, renames it to
     <db>_pre_restore_<time> (kept, never dropped) and renames the scratch database to the target's name
Until step 4 the target is untouched; a failure drops only the scratch database.
Drop the kept database yourself once the restore is confirmed.

Each step is recorded, before and after, in a journal next to the pre-restore snapshot
(DIR/<db>-pre-restore-<time>.restore-journal.json, mode 0600, written atomically), naming the target, the
scratch and kept databases, both snapshots and the last step completed. A restore killed halfway (even
between the two renames, when no database carries the target's name) is finished or undone from it:
  --resume   finishes the restore from where the databases show it stopped (before the swap: takes the
             pre-restore snapshot and rebuilds the scratch database; after the first rename: renames the
             scratch database to the target; after the second: reopens the kept database), or says it
             had completed
  --abort    puts the database that was under the target's name back under it; drops the scratch database
             only if it never carried that name (else keeps it under its scratch name); never drops the kept
             database
A new restore of a database refuses to start while a journal in DIR records an unfinished one.

One operation at a time: the restore holds the runbook lock on the database from before its first check to
its end, and fails at once, naming the holder, while another snapshot, restore or rollback of it runs
(see 'runbook unlock --help').

${SERVER_RESTORE_HELP.trimStart()}

options:
  --snapshot PATH           the snapshot: DIR/NAME.dump, DIR/NAME (directory format) or DIR/NAME.manifest.json
  --yes                     do it (required to change anything)
  --force                   restore despite a sha256, database name or server major version mismatch
  --pre-restore-dir DIR     where the fresh snapshot of the current database and the journal go (default:
                            the snapshot's directory)
  --resume                  finish the restore a journal records (see above)
  --abort                   undo the restore a journal records (see above)
  --journal PATH            the journal of --resume or --abort
  --snapshot-dir DIR        or: the directory holding it (the unfinished restore of PG_DSN's database there)
  --json                    print one JSON object: ok, restoredFrom, database, preRestoreSnapshot,
                            preRestoreManifest, keptDatabase, journal, durationMs, forced, warnings
  -h, --help                this text

environment:
  PG_DSN    postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE: the target database (required; never
            passed on argv: pg_dump and pg_restore get PGHOST, PGPORT, PGUSER, PGPASSWORD... instead)
  PATH      must hold pg_dump and pg_restore of at least the server's major version

exit codes: 0 restored, 1 refused or failed (the target unchanged unless the message says otherwise), or
            another runbook operation holds the lock on the database,
            2 bad usage, missing --yes, or a bad PG_DSN`;

export const restoreCommand: CliCommand = {
  name: "restore",
  summary: "restore a snapshot into the database in PG_DSN (needs --yes; keeps the old database renamed)",
  help,
  options: {
    snapshot: { type: "string" },
    yes: { type: "boolean" },
    force: { type: "boolean" },
    "pre-restore-dir": { type: "string" },
    resume: { type: "boolean" },
    abort: { type: "boolean" },
    journal: { type: "string" },
    "snapshot-dir": { type: "string" },
    database: { type: "string", multiple: true },
  },
  async run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
    if (values.resume === true || values.abort === true) return finishRestore(values, env);
    for (const flag of ["journal", "snapshot-dir"]) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --resume or --abort`);
    }
    const snapshot = values.snapshot;
    if (typeof snapshot !== "string" || snapshot === "") throw new UsageError("--snapshot PATH is required");
    const dir = values["pre-restore-dir"];
    const preRestoreDir = typeof dir === "string" && dir !== "" ? dir : undefined;
    const connection = connectionFromEnv(env);
    const server = await findServerSnapshot(snapshot);
    if (server !== undefined) return runServerRestore(values, env, connection, server, preRestoreDir);
    if (values.database !== undefined) {
      throw new UsageError(
        `--database goes with a server snapshot (runbook snapshot --all-databases); ${snapshot} is of one database`,
      );
    }
    if (values.yes !== true) {
      const plan = await describeRestore({ connection, snapshot, preRestoreDir });
      throw new UsageError(`${plan}\nnothing was changed: restoring replaces the database, so it needs --yes`);
    }
    const lock = { connection, database: connection.database, command: "restore" };
    const outcome = await withOperationLock(lock, (held) =>
      withInterruption("the restore", (signal) =>
        restoreSnapshot({
          connection,
          parentEnv: env,
          snapshot,
          force: values.force === true,
          preRestoreDir,
          signal,
          progress,
          lock: held,
          afterStep: crashAfterStep(env),
        }),
      ),
    );
    return { ok: true, json: restoreJson(outcome), text: restoreText(outcome) };
  },
};

const progress = (line: string): void => {
  process.stderr.write(`runbook restore: ${line}\n`);
};

/** --resume or --abort of the restore a journal records. */
async function finishRestore(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
  if (values.resume === true && values.abort === true) throw new UsageError("--resume and --abort exclude each other");
  const verb = values.resume === true ? "--resume" : "--abort";
  for (const flag of ["snapshot", "yes", "force", "pre-restore-dir", "database"]) {
    if (values[flag] !== undefined) {
      throw new UsageError(`--${flag} does not go with ${verb}: the journal records the restore to finish`);
    }
  }
  const journalFlag = optionalString(values, "journal");
  const snapshotDir = optionalString(values, "snapshot-dir");
  if ((journalFlag === undefined) === (snapshotDir === undefined)) {
    throw new UsageError(
      `${verb} needs either --journal PATH or --snapshot-dir DIR (the directory the pre-restore snapshot went to)`,
    );
  }
  const connection = connectionFromEnv(env);
  const serverJournal = await findServerJournal(connection, { journal: journalFlag, snapshotDir });
  if (serverJournal !== undefined && (snapshotDir !== undefined || isServerJournalFile(serverJournal))) {
    return finishServerRestore(values, env, connection, serverJournal);
  }
  const lock = { connection, database: connection.database, command: `restore ${verb}` };
  return withOperationLock(lock, async (held) => {
    const journal = await findJournal(connection, { journal: journalFlag, snapshotDir });
    const request = { connection, parentEnv: env, journal, progress, lock: held, afterStep: crashAfterStep(env) };
    if (values.abort === true) {
      const outcome = await abortRestore(request);
      return { ok: true, json: { ok: true, ...outcome }, text: abortText(outcome) };
    }
    const outcome = await withInterruption("the resumed restore", (signal) => resumeRestore({ ...request, signal }));
    return { ok: true, json: { ok: true, ...outcome }, text: resumeText(outcome) };
  });
}

function resumeText(outcome: ResumeOutcome): string {
  if (outcome.alreadyCompleted) {
    return [
      `the restore of ${outcome.restoredFrom} into ${outcome.database} had completed; nothing to do (journal: ${outcome.journal})`,
      `the previous database is kept as ${outcome.keptDatabase}`,
    ].join("\n");
  }
  return [
    `finished the restore of ${outcome.restoredFrom} into ${outcome.database}, resumed after step ${outcome.from}`,
    ...(outcome.preRestoreSnapshot === undefined ? [] : [`pre-restore snapshot: ${outcome.preRestoreSnapshot}`]),
    `kept the previous database as ${outcome.keptDatabase}; drop it once the restore is confirmed:`,
    `  DROP DATABASE "${outcome.keptDatabase}";`,
    ...outcome.warnings.map((w) => `warning: ${w}`),
  ].join("\n");
}

function abortText(outcome: AbortRestoreOutcome): string {
  if (outcome.alreadyAborted) {
    return `the restore of ${outcome.database} recorded in ${outcome.journal} was already aborted; nothing to do`;
  }
  return [
    `aborted the restore of ${outcome.database} (it had stopped after step ${outcome.from}); ${outcome.database} holds what it held before`,
    ...outcome.actions.map((a) => `  ${a}`),
    ...(outcome.restoredCopyKept === undefined
      ? []
      : [`the restored copy had already served as ${outcome.database}; it is kept as ${outcome.restoredCopyKept}`]),
  ].join("\n");
}

function restoreJson(outcome: RestoreOutcome): Record<string, unknown> {
  return {
    ok: true,
    restoredFrom: outcome.restoredFrom,
    database: outcome.database,
    preRestoreSnapshot: outcome.preRestoreSnapshot.path,
    preRestoreManifest: outcome.preRestoreSnapshot.manifestPath,
    keptDatabase: outcome.keptDatabase,
    journal: outcome.journal,
    durationMs: outcome.durationMs,
    forced: outcome.forced.map((r) => r.message),
    warnings: outcome.warnings,
    notRestored: outcome.companionSteps,
  };
}

function restoreText(outcome: RestoreOutcome): string {
  return [
    `restored ${outcome.restoredFrom} into ${outcome.database} in ${(outcome.durationMs / 1000).toFixed(1)} s`,
    ...outcome.forced.map((r) => `forced past: ${r.message}`),
    `pre-restore snapshot: ${outcome.preRestoreSnapshot.path} (sha256 ${outcome.preRestoreSnapshot.manifest.sha256})`,
    `kept the previous database as ${outcome.keptDatabase}; drop it once the restore is confirmed:`,
    `  DROP DATABASE "${outcome.keptDatabase}";`,
    ...outcome.warnings.map((w) => `warning: ${w}`),
    ...outcome.companionSteps.map((step) => `not restored: ${step}`),
  ].join("\n");
}
