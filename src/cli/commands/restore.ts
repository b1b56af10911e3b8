import type { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { withOperationLock } from "../../lib/lock/operation-lock";
import { connectionFromEnv } from "../../lib/pg/connection";
import { withInterruption } from "../../lib/snapshot/interruption";
import { RestoreOutcome, describeRestore, restoreSnapshot } from "../../lib/restore/restore-snapshot";

const help = `usage: runbook restore --snapshot PATH --yes [options]

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

One operation at a time: the restore holds the runbook lock on the database from before its first check to
its end, and fails at once, naming the holder, while another snapshot, restore or rollback of it runs
(see 'runbook unlock --help').

options:
  --snapshot PATH           the snapshot: DIR/NAME.dump, DIR/NAME (directory format) or DIR/NAME.manifest.json
  --yes                     do it (required to change anything)
  --force                   restore despite a sha256, database name or server major version mismatch
  --pre-restore-dir DIR     where the fresh snapshot of the current database goes (default: the snapshot's
                            directory)
  --json                    print one JSON object: ok, restoredFrom, database, preRestoreSnapshot,
                            preRestoreManifest, keptDatabase, durationMs, forced, warnings
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
  },
  async run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const snapshot = values.snapshot;
    if (typeof snapshot !== "string" || snapshot === "") throw new UsageError("--snapshot PATH is required");
    const dir = values["pre-restore-dir"];
    const preRestoreDir = typeof dir === "string" && dir !== "" ? dir : undefined;
    const connection = connectionFromEnv(env);
    if (values.yes !== true) {
      const plan = await describeRestore({ connection, snapshot, preRestoreDir });
      throw new UsageError(`${plan}\nnothing was changed: restoring replaces the database, so it needs --yes`);
    }
    const lock = { connection, database: connection.database, command: "restore" };
    const outcome = await withOperationLock(lock, () =>
      withInterruption("the restore", (signal) =>
        restoreSnapshot({
          connection,
          parentEnv: env,
          snapshot,
          force: values.force === true,
          preRestoreDir,
          signal,
          progress: (line) => process.stderr.write(`runbook restore: ${line}\n`),
        }),
      ),
    );
    return { ok: true, json: restoreJson(outcome), text: restoreText(outcome) };
  },
};

function restoreJson(outcome: RestoreOutcome): Record<string, unknown> {
  return {
    ok: true,
    restoredFrom: outcome.restoredFrom,
    database: outcome.database,
    preRestoreSnapshot: outcome.preRestoreSnapshot.path,
    preRestoreManifest: outcome.preRestoreSnapshot.manifestPath,
    keptDatabase: outcome.keptDatabase,
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
