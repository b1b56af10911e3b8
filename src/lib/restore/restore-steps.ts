import type { HeldLock } from "../lock/operation-lock";
import { PgConnection, withDatabase } from "../pg/connection";
import {
  createDatabaseStatement,
  grantStatements,
  readDatabaseProperties,
  settingStatements,
} from "../pg/database-properties";
import type { LoadedSnapshot } from "../snapshot/check-snapshot";
import { SnapshotOutcome, takeSnapshot } from "../snapshot/take-snapshot";
import { dropScratchDatabase, renameAfterTerminating, renameDatabase, setAllowConnections } from "./database-swap";
import { runStatement, withMaintenance } from "./maintenance";
import { restoreArchive } from "./restore-archive";
import { JournalFile, RESTORE_STEPS, RestoreJournal, RestoreStep, stepIndex } from "./restore-journal";

/** What the steps of a restore need besides its journal. */
export interface StepContext {
  /** The target, as PG_DSN names it. */
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  /** The snapshot being restored; only needed until the scratch database is restored. */
  readonly snapshot?: LoadedSnapshot;
  readonly signal?: AbortSignal;
  readonly say: (line: string) => void;
  /** The operation lock; checked before every step so that a restore whose lock was broken stops. */
  readonly lock?: HeldLock;
  /** Called right after each step has happened, before the journal records it (a test hook: see the CLI). */
  readonly afterStep?: (step: RestoreStep) => void;
}

export interface StepsOutcome {
  /** Set when this run took (or found) the pre-restore snapshot. */
  readonly preRestore?: SnapshotOutcome;
  readonly warnings: string[];
}

/**
 * Runs the steps after `from` in order, recording each in the journal before (`doing`) and after (`step`).
 * Every step can run again after a crash that left it half-done or done but unrecorded: the pre-restore
 * snapshot is reused when complete, the scratch database is rebuilt, and the renames are only reached from
 * the position the databases themselves show (swap-position.ts).
 */
export async function runRestoreSteps(
  ctx: StepContext,
  journal: JournalFile,
  from: RestoreStep,
): Promise<StepsOutcome> {
  let preRestore: SnapshotOutcome | undefined;
  const warnings: string[] = [];
  for (const step of RESTORE_STEPS.slice(stepIndex(from) + 1)) {
    ctx.lock?.assertHeld();
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    await journal.update({ doing: step });
    if (step === "pre-restore-snapshot-taken") {
      preRestore = await takePreRestoreSnapshot(ctx, journal.journal);
      await journal.update({ doing: step, preRestoreSnapshot: preRestore.path });
    } else if (step === "kept-reopened") {
      await withMaintenance(ctx.connection, (admin, c) =>
        setAllowConnections(admin, c, journal.journal.kept, true),
      ).catch((err: Error) => {
        const kept = journal.journal.kept;
        warnings.push(
          `${kept} still refuses connections (${err.message}); ALTER DATABASE "${kept}" ALLOW_CONNECTIONS true to inspect it`,
        );
      });
    } else if (step !== "planned") {
      await STEPS[step](ctx, journal.journal);
    }
    ctx.afterStep?.(step);
    await journal.update({ step, status: step === "kept-reopened" ? "completed" : "running" });
  }
  return { preRestore, warnings };
}

type StepAction = (ctx: StepContext, journal: RestoreJournal) => Promise<void>;

const STEPS: Record<Exclude<RestoreStep, "planned" | "pre-restore-snapshot-taken" | "kept-reopened">, StepAction> = {
  "scratch-created": async (ctx, j) => {
    ctx.say(`creating scratch database ${j.scratch}`);
    await withMaintenance(ctx.connection, async (admin, c) => {
      // A scratch database left by a crash may hold a partial pg_restore: it is this restore's own, rebuilt.
      await dropScratchDatabase(admin, c, j.scratch);
      const properties = await readDatabaseProperties(admin, c, j.database);
      await runStatement(
        admin,
        c,
        `creating scratch database ${j.scratch}`,
        createDatabaseStatement(admin, j.scratch, properties),
      );
    });
  },
  "scratch-restored": async (ctx, j) => {
    ctx.say(`restoring into scratch database ${j.scratch}`);
    if (ctx.snapshot === undefined) throw new Error(`the snapshot ${j.snapshot} was not loaded`);
    await restoreArchive(withDatabase(ctx.connection, j.scratch), ctx.snapshot, ctx.parentEnv, ctx.signal);
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    await withMaintenance(ctx.connection, async (admin, c) => {
      const properties = await readDatabaseProperties(admin, c, j.database);
      for (const sql of [
        ...grantStatements(admin, j.scratch, properties),
        ...settingStatements(admin, j.scratch, properties),
      ]) {
        await runStatement(admin, c, `copying privileges and settings of ${j.database}`, sql);
      }
    });
  },
  "target-closed": async (ctx, j) => {
    ctx.say(`swapping: ${j.database} → ${j.kept}, ${j.scratch} → ${j.database}`);
    await withMaintenance(ctx.connection, (admin, c) => setAllowConnections(admin, c, j.database, false));
  },
  "target-renamed": (ctx, j) =>
    withMaintenance(ctx.connection, (admin, c) => renameAfterTerminating(admin, c, j.database, j.kept)),
  "scratch-renamed": (ctx, j) =>
    withMaintenance(ctx.connection, (admin, c) => renameDatabase(admin, c, j.scratch, j.database)),
};

async function takePreRestoreSnapshot(ctx: StepContext, j: RestoreJournal): Promise<SnapshotOutcome> {
  ctx.say(`taking a snapshot of the current ${j.database} first`);
  const outcome = await takeSnapshot({
    connection: ctx.connection,
    parentEnv: ctx.parentEnv,
    outDir: j.preRestoreDir,
    name: j.preRestoreName,
    format: "directory",
    jobs: 2,
    compress: 1,
    context: { reason: "pre-restore", restoringFrom: j.snapshot, restoringSha256: j.snapshotSha256 },
    signal: ctx.signal,
  });
  ctx.say(`pre-restore snapshot: ${outcome.path}`);
  return outcome;
}
