import fs from "node:fs/promises";
import type { Stack } from "@pulumi/pulumi/automation";
import { OperationFailed } from "../errors";
import type { HeldLock } from "../lock/operation-lock";
import { runningImageTags } from "../kube/deployment";
import { parsePgDsn } from "../pg/connection";
import { redactSecrets } from "../redact";
import { journalsFor } from "../restore/restore-journal";
import type { ProvenPlan } from "./prove";
import { withPulumiEnvironment } from "./pulumi-environment";
import {
  ROLLBACK_STEPS,
  RollbackJournal,
  RollbackJournalFile,
  RollbackStep,
  rollbackJournalPath,
  startedBy,
  stepIndex,
} from "./rollback-journal";
import { runRestore, runRestoreCommand } from "./run-restore";
import { runUp, UpOutcome } from "./run-up";
import { fetchIfMissing } from "../snapshot-store/local-copy";
import type { StackStore } from "./stack-store";
import { applyConfigChanges, readStackFile, stackFilePath, writeStackFile } from "./stack-file";
import { describeTargets } from "./targets";
import { replicasToRecord, scaleBack, scaleToZero } from "./workloads";

export interface RollbackContext {
  readonly stack: Stack;
  readonly stackName: string;
  readonly snapshotDir: string;
  readonly dsn?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly progress: (line: string) => void;
  /** The operation lock the rollback holds for its whole run; handed down to the restore and the up. */
  readonly lock?: HeldLock;
  /** Where the snapshot to restore is downloaded from when this machine has no copy of it. */
  readonly store?: StackStore;
  /** Test hook: called after each step happened and before the journal records it (RUNBOOK_TEST_CRASH_AFTER). */
  readonly afterStep?: (step: string) => void;
}

export interface RollbackOutcome {
  readonly journal: string;
  readonly restore?: RollbackJournal["restore"];
  readonly update?: UpOutcome;
  readonly scaledBack: string[];
  /** The step it resumed after, for --resume. */
  readonly from?: RollbackStep;
}

/** Starts a proven rollback: writes its journal, then runs every step. */
export async function startRollback(proven: ProvenPlan, ctx: RollbackContext): Promise<RollbackOutcome> {
  const plan = proven.plan;
  const target = proven.target;
  if (proven.refusals.length > 0 || plan.target === undefined || target === undefined) {
    throw new OperationFailed(`the rollback is refused: ${proven.refusals.join("; ")}`);
  }
  const now = new Date();
  const file = rollbackJournalPath(ctx.snapshotDir, ctx.stackName, now);
  const stackFile = stackFilePath(ctx.stack.workspace.workDir, ctx.stackName);
  const stackFileBefore = file.replace(/\.rollback-journal\.json$/, ".stack-file-before.yaml");
  await fs.mkdir(ctx.snapshotDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(stackFileBefore, await readStackFile(stackFile), { mode: 0o600 });
  const journal = await RollbackJournalFile.create(file, {
    kind: "runbook-rollback-journal",
    version: 1,
    status: "running",
    step: "rollback-planned",
    stack: ctx.stackName,
    toVersion: plan.toVersion,
    target: describeTargets(plan.target.targets),
    release: {
      release: target.releaseName,
      namespace: target.namespace,
      ...(target.kubeContext === undefined ? {} : { context: target.kubeContext }),
    },
    ...(ctx.dsn === undefined ? {} : { database: parsePgDsn(ctx.dsn).database }),
    ...(plan.restore.needed && plan.restore.snapshot !== undefined
      ? { restoreSnapshot: plan.restore.snapshot.path }
      : {}),
    configChanges: proven.configChanges,
    stackFileBefore,
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    startedBy: startedBy(),
  });
  ctx.progress(`rollback journal: ${file}`);
  return runSteps(journal, ctx);
}

/** Continues a rollback from the last step its journal records. */
export async function resumeRollback(file: string, ctx: RollbackContext): Promise<RollbackOutcome> {
  const journal = await RollbackJournalFile.open(file);
  const j = journal.journal;
  if (j.status === "aborted")
    throw new OperationFailed(`the rollback recorded in ${file} was aborted; nothing to resume`);
  if (j.status === "completed") {
    ctx.progress(`the rollback recorded in ${file} had completed; nothing to do`);
    return { journal: file, ...(j.restore ? { restore: j.restore } : {}), scaledBack: [], from: j.step };
  }
  ctx.progress(
    `resuming the rollback to version ${j.toVersion} after step ${j.step}${j.doing ? ` (it was doing ${j.doing})` : ""}`,
  );
  return { ...(await runSteps(journal, ctx)), from: j.step };
}

const after = (j: RollbackJournal, step: RollbackStep) => stepIndex(j.step) < stepIndex(step);

async function runSteps(journal: RollbackJournalFile, ctx: RollbackContext): Promise<RollbackOutcome> {
  const where = journal.journal.release;
  const step = async (name: RollbackStep, work: () => Promise<Partial<RollbackJournal> | void>) => {
    if (!after(journal.journal, name)) return;
    ctx.lock?.assertHeld();
    await journal.update({ doing: name });
    let recorded: Partial<RollbackJournal> | void;
    try {
      recorded = await work();
    } catch (err) {
      const message = redactSecrets((err as Error).message, { ...ctx.env, PG_DSN: ctx.dsn });
      await journal.update({ failure: `${name}: ${message.split("\n").slice(-12).join("\n")}` });
      throw new OperationFailed(
        `the rollback stopped at step ${name}: ${message.split("\n").slice(-12).join("\n")}\n` +
          `Nothing is lost: the journal ${journal.file} records where it stands. Fix the cause, then ` +
          `\`runbook rollback --stack ${journal.journal.stack} --resume\` to go on, or ` +
          `\`runbook rollback --stack ${journal.journal.stack} --abort\` to put the database and the release back.`,
      );
    }
    ctx.afterStep?.(name);
    const completedAt = { ...journal.journal.completedAt, [name]: new Date().toISOString() };
    await journal.update({ ...(recorded ?? {}), step: name, completedAt });
    ctx.progress(`step ${stepIndex(name)}/${ROLLBACK_STEPS.length - 1} ${name}`);
  };

  await step("scaled-down", async () => {
    const workloads = journal.journal.workloads ?? (await replicasToRecord(where, ctx.env));
    await journal.update({ workloads, doing: "scaled-down" }); // before scaling: a crash keeps the counts
    await scaleToZero(where, workloads, ctx.env);
    ctx.progress(
      `scaled ${workloads.map((w) => `${w.name} (${w.replicas})`).join(", ") || "no workloads"} to zero: ` +
        `nothing writes to or migrates the database now`,
    );
  });

  await step("database-restored", async () => {
    const snapshot = journal.journal.restoreSnapshot;
    if (snapshot === undefined) {
      ctx.progress("database kept (no restore in the plan)");
      return;
    }
    return { restore: await restoreOnce(journal.journal, snapshot, ctx) };
  });

  let update: UpOutcome | undefined;
  await step("release-applied", async () => {
    const stackFile = stackFilePath(ctx.stack.workspace.workDir, journal.journal.stack);
    await applyConfigChanges(stackFile, journal.journal.configChanges);
    ctx.progress(`stack config set to version ${journal.journal.toVersion}'s; running pulumi up`);
    update = await upUnderLock(ctx);
    if (update.result !== "succeeded") throw new OperationFailed(`pulumi up ended ${update.result}`);
    return { update: { ...(update.version === undefined ? {} : { version: update.version }), result: update.result } };
  });

  let scaledBack: string[] = [];
  await step("verified", async () => {
    scaledBack = await scaleBack(where, journal.journal.workloads ?? [], ctx.env);
    const tags = await runningImageTags(where.release, where, ctx.env);
    const expected = journal.journal.configChanges.find((c) => c.key === "release-runbook:imageTags")?.to;
    if (expected !== undefined) {
      const want = JSON.parse(expected) as Record<string, string>;
      const wrong = Object.entries(want).filter(([c, t]) => tags[c] !== undefined && tags[c] !== t);
      if (wrong.length > 0) {
        throw new OperationFailed(
          `the release does not run version ${journal.journal.toVersion}'s images: ` +
            wrong.map(([c, t]) => `${c} runs ${tags[c]}, expected ${t}`).join("; "),
        );
      }
    }
    return { status: "completed" };
  });
  const j = journal.journal;
  return {
    journal: journal.file,
    ...(j.restore ? { restore: j.restore } : {}),
    ...(update ? { update } : {}),
    scaledBack,
  };
}

/** `pulumi up` with the lock handed down to the pipeline's own `runbook snapshot`. */
async function upUnderLock(ctx: RollbackContext): Promise<UpOutcome> {
  const env = { ...ctx.env, ...(ctx.lock?.handoffEnv() ?? {}) };
  // The engine's progress dots and spinner lines say nothing a log reader needs.
  const engineLine = (line: string) => {
    if (!/^[\s.@]*(updating|previewing)?[\s.]*$/.test(line)) ctx.progress(line);
  };
  return withPulumiEnvironment(env, () => runUp(ctx.stack, engineLine));
}

/**
 * Restores the snapshot once, however often the rollback is resumed: a restore this rollback began and did not
 * finish is resumed from its own journal; one that completed is taken as done; else a new one starts (it takes
 * the fresh snapshot of the current database first).
 */
async function restoreOnce(
  j: RollbackJournal,
  snapshot: string,
  ctx: RollbackContext,
): Promise<NonNullable<RollbackJournal["restore"]>> {
  if (ctx.dsn === undefined) throw new OperationFailed("a restore is needed but no DSN is known: set PG_DSN");
  const handoff = ctx.lock?.handoffEnv() ?? {};
  const ours = await restoresOf(j, snapshot, ctx);
  const last = ours[ours.length - 1];
  if (last?.journal.status === "completed") {
    ctx.progress(`the restore of ${snapshot} had completed (journal ${last.file})`);
    return restoreFacts(last.file, last.journal.preRestoreSnapshot, last.journal.kept);
  }
  if (last?.journal.status === "running") {
    ctx.progress(`resuming the restore of ${snapshot} from its journal ${last.file}`);
    await runRestoreCommand(["--resume", "--journal", last.file], snapshot, ctx.dsn, ctx.env, handoff);
    const done = (await restoresOf(j, snapshot, ctx)).find((r) => r.file === last.file);
    return restoreFacts(last.file, done?.journal.preRestoreSnapshot, done?.journal.kept);
  }
  if (ctx.store !== undefined) {
    const fetched = await fetchIfMissing(ctx.store.settings, snapshot, ctx.store.env);
    if (fetched !== undefined) ctx.progress(`downloaded ${fetched.manifestUrl} into ${fetched.path}; sha256 checked`);
  }
  ctx.progress(`restoring ${snapshot}: first a fresh snapshot of the current database, then the restore`);
  const result = await runRestore(snapshot, ctx.snapshotDir, ctx.dsn, ctx.env, handoff);
  ctx.progress(
    `restored; the database the application ran on is kept as ${String(result.keptDatabase)}, its snapshot is ${String(result.preRestoreSnapshot)}`,
  );
  return restoreFacts(
    String(result.journal ?? ""),
    result.preRestoreSnapshot === undefined ? undefined : String(result.preRestoreSnapshot),
    result.keptDatabase === undefined ? undefined : String(result.keptDatabase),
  );
}

function restoreFacts(journal: string, preRestoreSnapshot?: string, keptDatabase?: string) {
  return {
    ...(journal === "" ? {} : { journal }),
    ...(preRestoreSnapshot === undefined ? {} : { preRestoreSnapshot }),
    ...(keptDatabase === undefined ? {} : { keptDatabase }),
  };
}

/** The restores of `snapshot` this rollback began: restore journals in its directory started since it did. */
async function restoresOf(j: RollbackJournal, snapshot: string, ctx: RollbackContext) {
  const c = parsePgDsn(ctx.dsn!);
  const found = await journalsFor(ctx.snapshotDir, { host: c.host, port: c.port }, c.database);
  return found.filter((f) => f.journal.snapshot === snapshot && f.journal.startedAt >= j.startedAt);
}

/**
 * Puts back what the rollback changed: the database the application ran on (an unfinished restore is
 * aborted; a finished one is undone by restoring the fresh snapshot taken before it, the restored database
 * being kept, never dropped), the stack file, the release (a `pulumi up` of the pre-rollback config when
 * the rollback's up had begun) and the replicas.
 */
export async function abortRollback(
  file: string,
  ctx: RollbackContext,
): Promise<{ journal: string; actions: string[] }> {
  const journal = await RollbackJournalFile.open(file);
  const j = journal.journal;
  if (j.status === "aborted") return { journal: file, actions: ["already aborted; nothing to do"] };
  const actions: string[] = [];
  const abortedFrom = j.step;
  const releaseTouched =
    stepIndex(j.step) >= stepIndex("release-applied") || j.doing === "release-applied" || j.status === "completed";
  await journal.update({ doing: "abort" });

  if (j.restoreSnapshot !== undefined && ctx.dsn !== undefined) {
    const handoff = ctx.lock?.handoffEnv() ?? {};
    const ours = await restoresOf(j, j.restoreSnapshot, ctx);
    const first = ours[0];
    if (j.databasePutBack === true) {
      actions.push("the database had already been put back by an earlier --abort");
    } else if (first !== undefined && first.journal.status === "running") {
      await runRestoreCommand(["--abort", "--journal", first.file], j.restoreSnapshot, ctx.dsn, ctx.env, handoff);
      actions.push(`aborted the unfinished restore (${first.file}): the database is the one the application ran on`);
    } else if (first !== undefined && first.journal.status === "completed" && first.journal.preRestoreSnapshot) {
      const pre = first.journal.preRestoreSnapshot;
      const back = await runRestoreCommand(
        ["--snapshot", pre, "--pre-restore-dir", ctx.snapshotDir, "--yes"],
        pre,
        ctx.dsn,
        ctx.env,
        handoff,
      );
      actions.push(
        `restored ${pre} (the database as it was before the rollback); the database restored by the rollback is ` +
          `kept as ${String(back.keptDatabase)}, and the original as ${first.journal.kept}: neither was dropped`,
      );
    }
    await journal.update({ doing: "abort", databasePutBack: true });
  }

  const stackFile = stackFilePath(ctx.stack.workspace.workDir, j.stack);
  await writeStackFile(stackFile, await readStackFile(j.stackFileBefore));
  actions.push(`put the stack file back as it was before the rollback (${j.stackFileBefore})`);
  if (releaseTouched) {
    ctx.progress("the rollback's pulumi up had begun: running pulumi up of the pre-rollback config");
    const update = await upUnderLock(ctx);
    actions.push(`pulumi up of the pre-rollback config: update ${update.version ?? "?"} ${update.result}`);
  }
  const scaled = await scaleBack(j.release, j.workloads ?? [], ctx.env);
  actions.push(...scaled, "the workloads run their pre-rollback replicas");
  await journal.update({ status: "aborted", step: abortedFrom });
  return { journal: file, actions };
}
