import type { CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { acquireDatabaseLocks } from "../../lib/lock/operation-lock";
import type { PgConnection } from "../../lib/pg/connection";
import { describeServerRestore } from "../../lib/restore/server-restore-describe";
import { ServerRestoreOutcome, restoreServerSnapshot } from "../../lib/restore/server-restore";
import {
  ServerAbortOutcome,
  ServerResumeOutcome,
  abortServerRestore,
  databasesOfServerJournal,
  resumeServerRestore,
} from "../../lib/restore/server-restore-finish";
import { selectDatabases } from "../../lib/restore/server-restore-plan";
import { withInterruption } from "../../lib/snapshot/interruption";
import type { LoadedServerSnapshot } from "../../lib/snapshot/server-snapshot-files";
import { crashAfterStep } from "../test-hooks";

/** The part of `runbook restore --help` about server snapshots. */
export const SERVER_RESTORE_HELP = `
A server snapshot (runbook snapshot --all-databases; its manifest.json says kind "server"), PG_DSN naming
any database of the server to restore onto:
  runbook restore --snapshot DIR/all-databases-<time> [--database NAME]... --yes
restores all its databases but postgres, or those named, two at a time, each as above (pre-restore
snapshot, scratch database, swap, its own journal). First it creates, from the snapshot's roles
(globals.sql), the roles those databases need (owners, grantees) that the server lacks, without passwords
unless the snapshot holds them; existing roles are left as they are. A database the server lacks is
created with the snapshot's owner, encoding, locale, grants and settings, then restored over. A server
journal (DIR/<name>-restore-<time>.server-restore-journal.json) records which databases are done:
--resume finishes the rest (resuming those under way), --abort puts back those under way and leaves
those done restored. The locks of all the databases restored are held, on one session, throughout.
  --database NAME           restore only this database of the snapshot (repeatable)`;

const progress = (line: string): void => {
  process.stderr.write(`runbook restore: ${line}\n`);
};

/** `runbook restore --snapshot <server snapshot>`: the plan without --yes, else the restore under the locks. */
export async function runServerRestore(
  values: ParsedValues,
  env: NodeJS.ProcessEnv,
  connection: PgConnection,
  snapshot: LoadedServerSnapshot,
  preRestoreDir: string | undefined,
): Promise<CommandResult> {
  const databases = listFlag(values.database);
  if (values.yes !== true) {
    const plan = await describeServerRestore({ connection, parentEnv: env, snapshot, databases, preRestoreDir });
    throw new UsageError(`${plan}\nnothing was changed: restoring replaces databases, so it needs --yes`);
  }
  const names = selectDatabases(snapshot, databases).map((d) => d.name);
  const lock = await acquireDatabaseLocks({ connection, databases: names, command: "restore --server" });
  try {
    const outcome = await withInterruption("the restore", (signal) =>
      restoreServerSnapshot({
        connection,
        parentEnv: env,
        snapshot,
        databases,
        force: values.force === true,
        preRestoreDir,
        signal,
        progress,
        lock,
        afterStep: crashAfterStep(env),
      }),
    );
    return { ok: true, json: { ok: true, kind: "server", ...outcome }, text: restoredText(outcome) };
  } finally {
    await lock.release();
  }
}

/** --resume or --abort of a server restore's journal. */
export async function finishServerRestore(
  values: ParsedValues,
  env: NodeJS.ProcessEnv,
  connection: PgConnection,
  journal: string,
): Promise<CommandResult> {
  const verb = values.resume === true ? "--resume" : "--abort";
  const names = await databasesOfServerJournal(journal);
  const lock = await acquireDatabaseLocks({ connection, databases: names, command: `restore --server ${verb}` });
  try {
    const request = { connection, parentEnv: env, journal, progress, lock, afterStep: crashAfterStep(env) };
    if (values.abort === true) {
      const outcome = await abortServerRestore(request);
      return { ok: true, json: { ok: true, kind: "server", ...outcome }, text: abortedText(outcome) };
    }
    const outcome = await withInterruption("the resumed restore", (signal) =>
      resumeServerRestore({ ...request, signal }),
    );
    return { ok: true, json: { ok: true, kind: "server", ...outcome }, text: resumedText(outcome) };
  } finally {
    await lock.release();
  }
}

function listFlag(value: ParsedValues[string]): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function restoredText(outcome: ServerRestoreOutcome, head?: string): string {
  const lines = [
    head ??
      `restored ${outcome.databases.length} databases of ${outcome.restoredFrom} in ${(outcome.durationMs / 1000).toFixed(1)} s`,
    ...outcome.forced.map((r) => `forced past: ${r}`),
    ...(outcome.rolesCreated.length === 0 ? [] : [`roles created: ${outcome.rolesCreated.join(", ")}`]),
  ];
  for (const d of outcome.databases) {
    const how = d.created ? "was missing, created and restored" : "restored";
    lines.push(
      `${d.name}: ${how}; pre-restore snapshot ${d.preRestoreSnapshot ?? "-"}; previous copy kept as ${d.keptDatabase ?? "-"}`,
    );
  }
  const kept = outcome.databases.filter((d) => d.keptDatabase !== undefined).map((d) => `"${d.keptDatabase}"`);
  if (kept.length > 0)
    lines.push(`drop the kept databases once the restore is confirmed: DROP DATABASE ${kept.join(", ")};`);
  lines.push(`journal: ${outcome.journal}`);
  lines.push(...outcome.notes, ...outcome.warnings.map((w) => `warning: ${w}`));
  return lines.join("\n");
}

function resumedText(outcome: ServerResumeOutcome): string {
  return restoredText(
    outcome,
    outcome.alreadyCompleted
      ? `the server restore of ${outcome.restoredFrom} had completed; nothing to do`
      : `finished the server restore of ${outcome.restoredFrom}`,
  );
}

function abortedText(outcome: ServerAbortOutcome): string {
  if (outcome.alreadyAborted)
    return `the server restore recorded in ${outcome.journal} was already aborted; nothing to do`;
  return [
    `aborted the server restore recorded in ${outcome.journal}`,
    ...outcome.actions.map((a) => `  ${a}`),
    ...outcome.restored.map(
      (d) =>
        `${d.name} stays restored (its previous copy is kept as ${d.keptDatabase}; pre-restore snapshot ${d.preRestoreSnapshot})`,
    ),
    ...(outcome.created.length === 0
      ? []
      : [`created by this restore and left in place: ${outcome.created.join(", ")}`]),
  ].join("\n");
}
