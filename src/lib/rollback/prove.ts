import type { RunbookConfig } from "../config/schema";
import { failedCheckNames } from "../check";
import type { PreflightReport } from "../preflight/preflight";
import { ConfigChange, fullConfigChanges } from "./full-target";
import type { RollbackPlan } from "./plan";
import { PreviewOutcome, previewTarget } from "./preview";
import type { StackFacts } from "./stack-facts";
import { stackFilePath } from "./stack-file";
import { preflightTarget, validateTargetConfig } from "./target-preflight";
import { checkValuesFiles, ValuesCheck } from "./values-check";

/** A rollback plan with everything proven before anything changes. */
export interface ProvenPlan {
  readonly plan: RollbackPlan;
  /** Every non-secret key the rollback sets back to version N's value. */
  readonly configChanges: ConfigChange[];
  readonly target?: RunbookConfig;
  readonly configProblems?: readonly string[];
  readonly values?: ValuesCheck;
  readonly preflight?: PreflightReport;
  readonly preview?: PreviewOutcome;
  /** What stops `--yes`; empty when the rollback may run. */
  readonly refusals: string[];
}

const SECRET_KEYS = ["pgDsn", "registryPassword", "redisUrl"];

/**
 * Proves a rollback plan: version N's complete config validated as the program validates it, the values
 * files compared with what N's Helm revision recorded, every preflight check run against N's target (the
 * schema guard on the schema the restore will leave), and a real `pulumi preview` of N's config.
 */
export async function proveRollback(
  facts: StackFacts,
  plan: RollbackPlan,
  ctx: {
    readonly stackName: string;
    readonly dsn?: string;
    readonly valuesAtHead: boolean;
    readonly env: NodeJS.ProcessEnv;
  },
): Promise<ProvenPlan> {
  if (plan.refusal !== undefined || plan.target === undefined) {
    return { plan, configChanges: [], refusals: [plan.refusal ?? "no target version"] };
  }
  const refusals: string[] = [];
  const workDir = facts.stack.workspace.workDir;
  const configChanges = fullConfigChanges(facts.config, plan.target.config);
  const secretsSet = SECRET_KEYS.filter((k) => (facts.config[`release-runbook:${k}`]?.value ?? "") !== "");
  const validated = validateTargetConfig(plan.target.config, ctx.stackName, workDir, secretsSet);
  const n = plan.toVersion;
  if (validated.problems !== undefined) {
    refusals.push(
      `version ${n}'s config does not load at this checkout: ${validated.problems.join("; ")}. A local chart or ` +
        `values file that changed since version ${n} is why, usually: check out the commit that ran version ${n} ` +
        `and run the rollback from there`,
    );
  }
  let values: ValuesCheck | undefined;
  let preflight: PreflightReport | undefined;
  const c = validated.config;
  if (c !== undefined) {
    values = await checkValuesFiles({
      release: c.releaseName,
      target: { namespace: c.namespace, ...(c.kubeContext === undefined ? {} : { context: c.kubeContext }) },
      revision: plan.target.releaseRevision,
      valuesFiles: c.valuesFiles,
      siteValues: c.siteValues,
      imageTags: c.imageTags,
      env: ctx.env,
    });
    if (values.state === "different" && !ctx.valuesAtHead) {
      refusals.push(
        `the values files at this checkout differ from what version ${n} ran with (Helm revision ${values.revision} ` +
          `recorded other values at ${values.paths.slice(0, 8).join(", ")}${values.paths.length > 8 ? ", …" : ""}): ` +
          `check out the commit that ran version ${n} (\`git log -- Pulumi.${ctx.stackName}.yaml\`, up to ` +
          `${plan.target.endTime ?? plan.target.startTime}) and run the rollback from there, or pass ` +
          `--values-at-head to roll back with the values files as they are here`,
      );
    }
    preflight = await preflightTarget({
      config: c,
      ...(ctx.dsn === undefined ? {} : { dsn: ctx.dsn }),
      ...(plan.restore.needed ? { schemaAfterRestore: plan.restore.snapshot?.schemaVersion ?? null } : {}),
      env: ctx.env,
    });
    if (!preflight.ok) {
      refusals.push(
        `preflight of version ${n}'s target fails (${failedCheckNames(preflight.checks).join(", ")}): ` +
          `pulumi up would stop there; see the checks above`,
      );
    }
  }
  const preview = await previewTarget(facts.stack, stackFilePath(workDir, ctx.stackName), configChanges, ctx.env);
  if (!preview.ok) refusals.push(`pulumi preview of version ${n}'s config fails: ${preview.error ?? "see above"}`);
  return {
    plan,
    configChanges,
    ...(c === undefined ? {} : { target: c }),
    ...(validated.problems === undefined ? {} : { configProblems: validated.problems }),
    ...(values === undefined ? {} : { values }),
    ...(preflight === undefined ? {} : { preflight }),
    preview,
    refusals,
  };
}
