import type { CliCommand, CommandResult, ParsedValues } from "../command";
import { optionalString } from "../flags";
import { BreakLockOutcome, breakLock } from "../../lib/lock/break-lock";
import { describeHolder } from "../../lib/lock/holder";
import { connectionFromEnv } from "../../lib/pg/connection";

const help = `usage: runbook unlock [--database NAME] [--force] [--json]

Releases the runbook lock on a database whose holder is gone. Snapshot and restore (and --resume, --abort)
hold that lock for their whole run, so that two operators never work on one database at once: a PostgreSQL
advisory lock held by a dedicated server session, whose application_name (runbook-lock:PID TIME COMMAND
USER@HOST) says who holds it. The lock dies with that session, so a runbook process that exits or is killed
releases it by itself; unlock is for a session that outlived its process (a host that vanished, a
half-open connection, a process that hangs).

unlock ends the holding server session (pg_terminate_backend) and names what it broke. It refuses, unless
--force, when the holder is on this machine and its process still runs, when the holder is on another
machine (check there first), or when the session does not say who it is. Breaking the lock of an
operation that still runs lets a second one start beside it; a restore that lost its lock stops at its
next step and leaves its journal for 'runbook restore --resume' or '--abort'.

options:
  --database NAME   the database whose lock to release (default: the one PG_DSN names)
  --force           end the holding session even when its process may still run
  --json            print one JSON object: ok, database, broken (backendPid, role, holder) or null
  -h, --help        this text

environment:
  PG_DSN    postgres://USER:PASSWORD@HOST:PORT/DATABASE: the server (its postgres database holds the locks);
            the role needs to be the holder's role, a member of pg_signal_backend, or superuser

exit codes: 0 released or nothing held, 1 refused or failed, 2 bad usage or PG_DSN`;

export const unlockCommand: CliCommand = {
  name: "unlock",
  summary: "release the runbook lock on a database whose holder is gone (names what it broke)",
  help,
  options: {
    database: { type: "string" },
    force: { type: "boolean" },
  },
  async run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const connection = connectionFromEnv(env);
    const database = optionalString(values, "database") ?? connection.database;
    const outcome = await breakLock({ connection, database, force: values.force === true });
    return { ok: true, json: unlockJson(outcome), text: unlockText(outcome) };
  },
};

function unlockJson(outcome: BreakLockOutcome): Record<string, unknown> {
  const broken = outcome.broken;
  return {
    ok: true,
    database: outcome.database,
    broken:
      broken === undefined
        ? null
        : {
            backendPid: broken.backendPid,
            role: broken.role,
            holder: broken.holder === undefined ? null : { ...broken.holder, since: broken.holder.since.toISOString() },
          },
  };
}

function unlockText(outcome: BreakLockOutcome): string {
  const broken = outcome.broken;
  if (broken === undefined) return `no runbook lock is held on database ${outcome.database}; nothing to do`;
  const who = broken.holder === undefined ? `a session of role ${broken.role}` : describeHolder(broken.holder);
  return (
    `broke the runbook lock on database ${outcome.database}: ended server session ${broken.backendPid}, held by ${who}` +
    (broken.holder?.command.startsWith("restore")
      ? `\nif that restore stopped halfway, its journal says where: runbook restore --resume (or --abort) --snapshot-dir DIR`
      : "")
  );
}
