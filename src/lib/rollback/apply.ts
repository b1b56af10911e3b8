import type { Stack } from "@pulumi/pulumi/automation";
import { OperationFailed } from "../errors";
import { redactSecrets } from "../redact";
import { fetchIfMissing } from "../snapshot-store/local-copy";
import type { RollbackPlan } from "./plan";
import { withPulumiEnvironment } from "./pulumi-environment";
import { runRestore } from "./run-restore";
import { runUp, UpOutcome } from "./run-up";
import type { PlainConfig } from "./stack-config";
import type { StackStore } from "./stack-store";
import { setTargetConfig } from "./target-config";
import type { TargetVersions } from "./targets";

export interface RollbackOutcome {
  readonly restore?: Record<string, unknown>;
  readonly update: UpOutcome;
}

/**
 * Carries out a plan that was not refused: restore the database first when the plan says so (the restore
 * takes its own fresh snapshot of the current database), then re-apply the target through `pulumi up`,
 * which runs preflight, snapshot, release and verification.
 */
export async function applyRollback(
  stack: Stack,
  plan: RollbackPlan,
  ctx: {
    config: PlainConfig;
    current: TargetVersions;
    snapshotDir: string;
    /** Where the snapshot to restore is downloaded from when this machine has no copy of it. */
    store?: StackStore;
    dsn?: string;
    env: NodeJS.ProcessEnv;
    progress: (line: string) => void;
  },
): Promise<RollbackOutcome> {
  if (plan.refusal !== undefined || plan.target === undefined) throw new OperationFailed(plan.refusal ?? "no target");
  let restore: Record<string, unknown> | undefined;
  if (plan.restore.needed && plan.restore.snapshot !== undefined) {
    if (ctx.dsn === undefined) throw new OperationFailed("a restore is needed but no DSN is known: set PG_DSN");
    if (ctx.store !== undefined) {
      const fetched = await fetchIfMissing(ctx.store.settings, plan.restore.snapshot.path, ctx.store.env);
      if (fetched !== undefined) ctx.progress(`downloaded ${fetched.manifestUrl} into ${fetched.path}; sha256 checked`);
    }
    ctx.progress(`restoring ${plan.restore.snapshot.path} (a fresh snapshot of the current database is taken first)`);
    restore = await runRestore(plan.restore.snapshot.path, ctx.snapshotDir, ctx.dsn, ctx.env);
    ctx.progress(
      `restored; the previous database is kept as ${String(restore.keptDatabase ?? "?")}, its snapshot is ${JSON.stringify(restore.preRestoreSnapshot ?? null)}`,
    );
  }
  const targets = plan.target.targets;
  await withPulumiEnvironment(ctx.env, () => setTargetConfig(stack, ctx.current, targets));
  ctx.progress(`stack config set to version ${plan.toVersion}'s targets; running pulumi up`);
  try {
    const update = await withPulumiEnvironment(ctx.env, () => runUp(stack, ctx.progress));
    return { ...(restore ? { restore } : {}), update };
  } catch (err) {
    const restoreNote = restore
      ? ` The database was restored; the pre-restore snapshot is ${JSON.stringify(restore.preRestoreSnapshot)}.`
      : "";
    throw new OperationFailed(
      `pulumi up for the rollback failed: ${redactSecrets((err as Error).message.split("\n").slice(-15).join("\n"), ctx.env)}\n` +
        `The stack config now holds version ${plan.toVersion}'s targets; fix the cause and run \`pulumi up\` again, or ` +
        `\`git checkout Pulumi.<stack>.yaml\` to return to the previous config.${restoreNote}`,
      { restore },
    );
  }
}
