import type { Client } from "pg";
import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import {
  allowsConnections,
  databaseExists,
  dropScratchDatabase,
  renameAfterTerminating,
  renameDatabase,
  setAllowConnections,
} from "./database-swap";
import { withMaintenance } from "./maintenance";
import { JournalFile, RestoreJournal, RestoreStep, stepIndex } from "./restore-journal";
import { SwapState, describeSwapState, readSwapState, swapPosition } from "./swap-position";

export interface AbortOutcome {
  /** Where the restore stood when the abort began. */
  readonly from: RestoreStep;
  /** What the abort did, in order, for the operator. */
  readonly actions: string[];
  /**
   * The restored copy, kept under the scratch name when it had already served under the application's name
   * (it may hold writes made since); undefined when the scratch database was dropped or never made.
   */
  readonly restoredCopyKept?: string;
}

/**
 * Puts the database that was under the application's name before the restore back under it, from wherever
 * the restore stopped, and marks the journal aborted. Never drops the previous database; drops the scratch
 * database only while it has never carried the application's name. An abort that dies halfway is finished by
 * running it again: the journal remembers where it began.
 */
export async function abortRestoreSteps(connection: PgConnection, journal: JournalFile): Promise<AbortOutcome> {
  const j = journal.journal;
  if (j.status === "completed") {
    throw new OperationFailed(
      `the restore recorded in ${journal.file} completed at ${j.updatedAt}; there is nothing to abort. The previous ` +
        `data is kept as ${j.kept}${j.preRestoreSnapshot === undefined ? "" : ` and in the snapshot ${j.preRestoreSnapshot}`}; ` +
        `to go back, restore that snapshot (runbook restore --snapshot ${j.preRestoreSnapshot ?? "PATH"} --yes)`,
    );
  }
  return withMaintenance(connection, async (admin, c) => {
    const state = await readSwapState(admin, j);
    const from = j.abortedFrom ?? abortStart(j, state);
    await journal.update({ doing: "abort", abortedFrom: from });
    const actions: string[] = [];
    const id = { target: j.database, kept: j.kept, scratch: j.scratch };
    let restoredCopyKept: string | undefined;

    if (state.target && state.kept && !state.scratch) {
      // Swapped: the restored copy carries the name. Swap back, keeping the copy under its scratch name.
      if (await allowsConnections(admin, id.target)) await setAllowConnections(admin, c, id.target, false);
      await renameAfterTerminating(admin, c, id.target, id.scratch);
      actions.push(`renamed the restored ${id.target} back to ${id.scratch}`);
      restoredCopyKept = id.scratch;
    }
    const now = await readSwapState(admin, j);
    if (!now.target && now.kept) {
      await renameDatabase(admin, c, id.kept, id.target);
      actions.push(`renamed ${id.kept} back to ${id.target}`);
    } else if (!now.target || now.kept) {
      throw new OperationFailed(
        `cannot tell which database to put back under ${id.target}: ${describeSwapState(j, now)}; nothing more ` +
          `was changed. Put the previous data (${id.kept} if it exists) under ${id.target} by hand`,
      );
    }
    // Reopened only when this restore may have closed it (unrecorded, if it died right after): a database its
    // owner had closed for other reasons stays closed.
    const mayHaveClosed = stepIndex(from) >= stepIndex("scratch-restored") || actions.length > 0;
    if (mayHaveClosed && !(await allowsConnections(admin, id.target))) {
      await setAllowConnections(admin, c, id.target, true);
      actions.push(`reopened ${id.target} to connections`);
    }
    if (from === "scratch-renamed" || from === "kept-reopened") {
      restoredCopyKept = id.scratch;
      // Open, as the kept database is after a restore, for the operator to inspect or drop.
      if (!(await allowsConnections(admin, id.scratch))) await setAllowConnections(admin, c, id.scratch, true);
    } else if (await dropIfPresent(admin, c, id.scratch)) {
      actions.push(`dropped the scratch database ${id.scratch}`);
    }
    await journal.update({ status: "aborted" });
    return { from, actions, ...(restoredCopyKept === undefined ? {} : { restoredCopyKept }) };
  });
}

/** Where the swap stands for an abort: as for a resume, but a missing scratch before the swap is no problem. */
function abortStart(journal: RestoreJournal, state: SwapState): RestoreStep {
  if (state.target && !state.kept) {
    return stepIndex(journal.step) < stepIndex("target-renamed") ? journal.step : "target-closed";
  }
  return swapPosition(journal, state);
}

async function dropIfPresent(admin: Client, connection: PgConnection, name: string): Promise<boolean> {
  if (!(await databaseExists(admin, name))) return false;
  await dropScratchDatabase(admin, connection, name);
  return true;
}
