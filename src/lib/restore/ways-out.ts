import { FoundJournal, RestoreJournal } from "./restore-journal";

/** The two ways out of a restore that stopped halfway, as the operator types them. */
export function waysOut(file: string, journal: RestoreJournal): string {
  return (
    `the restore of ${journal.database} stopped after step ${journal.step}; its journal is ${file}. Finish it with ` +
    `\`runbook restore --resume --journal ${file}\`, or put the previous database back under ${journal.database} ` +
    `with \`runbook restore --abort --journal ${file}\` (neither drops the previous database; PG_DSN as for the restore)`
  );
}

/** Why a new restore does not start while an earlier one of the same database is unfinished. */
export function unfinishedRestoreRefusal(unfinished: FoundJournal[]): string {
  const lines = unfinished.map(({ file, journal }) => {
    const by = `${journal.startedBy.user}@${journal.startedBy.host}, pid ${journal.startedBy.pid}`;
    return `an unfinished restore of database ${journal.database} (started ${journal.startedAt} by ${by}, restoring ${journal.snapshot}) is recorded in ${file}`;
  });
  const { file, journal } = unfinished[unfinished.length - 1];
  return `${lines.join("\n")}\n${waysOut(file, journal)}\nnothing was changed`;
}
