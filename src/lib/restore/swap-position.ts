import type { Client } from "pg";
import { OperationFailed } from "../errors";
import { databaseExists } from "./database-swap";
import { RestoreJournal, RestoreStep, stepIndex } from "./restore-journal";

/** Which of the three databases a restore juggles exist now. */
export interface SwapState {
  readonly target: boolean;
  readonly kept: boolean;
  readonly scratch: boolean;
}

export async function readSwapState(admin: Client, journal: RestoreJournal): Promise<SwapState> {
  return {
    target: await databaseExists(admin, journal.database),
    kept: await databaseExists(admin, journal.kept),
    scratch: await databaseExists(admin, journal.scratch),
  };
}

/**
 * The last step that is certainly complete, from the journal and the databases that exist. The journal is
 * written after each step, so a crash between a step and its record leaves it one step behind: the databases
 * say which side of each rename the restore is on. Before the swap, a scratch database that may hold a partial
 * pg_restore is rebuilt, so the position goes back to before its creation.
 */
export function swapPosition(journal: RestoreJournal, state: SwapState): RestoreStep {
  const step = journal.step;
  if (state.target && !state.kept) {
    if (stepIndex(step) >= stepIndex("target-renamed")) throw inconsistent(journal, state);
    if (stepIndex(step) >= stepIndex("scratch-restored")) {
      if (!state.scratch) throw inconsistent(journal, state);
      return step;
    }
    return step === "planned" ? "planned" : "pre-restore-snapshot-taken";
  }
  if (!state.target && state.kept && state.scratch) return "target-renamed";
  if (state.target && state.kept && !state.scratch) return step === "kept-reopened" ? step : "scratch-renamed";
  throw inconsistent(journal, state);
}

export function describeSwapState(journal: RestoreJournal, state: SwapState): string {
  const say = (name: string, there: boolean): string => `${name} ${there ? "exists" : "does not exist"}`;
  return [say(journal.database, state.target), say(journal.kept, state.kept), say(journal.scratch, state.scratch)].join(
    ", ",
  );
}

function inconsistent(journal: RestoreJournal, state: SwapState): OperationFailed {
  return new OperationFailed(
    `the databases do not match any point of the restore the journal records (last step ${journal.step}): ` +
      `${describeSwapState(journal, state)}. Someone may have renamed or dropped one by hand; nothing was changed. ` +
      `Look at them (the previous data was in ${journal.database}, or ${journal.kept} once renamed; the pre-restore ` +
      `snapshot is ${journal.preRestoreSnapshot ?? "not taken"}) and put the right one under ${journal.database} by hand`,
    { state },
  );
}
