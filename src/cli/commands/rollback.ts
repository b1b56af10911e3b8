import type { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import type { SnapshotRecord } from "../../lib/rollback/history";
import { lastGoodVersion, planRollback, RollbackPlan } from "../../lib/rollback/plan";
import { describeTargets, targetsFromConfig } from "../../lib/rollback/targets";
import { stackName } from "./history";

const help = `usage: runbook rollback --stack STACK --to VERSION [--restore-snapshot auto|PATH] [--keep-database] [--yes] [--json]

Rolls the stack back to the target versions (image tags, chart version, tier) that stack version VERSION
applied (see \`runbook history\`), through the same guarded pipeline: it writes them into the stack's config
and runs \`pulumi up\` (preflight, a fresh snapshot, helm upgrade --atomic, verification).

Without --yes it prints the plan (what changes, which steps run, whether a restore is needed) and changes
nothing.

The database: when its schema version (schemaVersionQuery) is not the one VERSION ran with, the older
application must not start against it: rollback refuses unless --restore-snapshot names the snapshot to
restore (auto = the one taken before the upgrade being undone). Restoring takes a fresh snapshot of the
current database first, then restores, then rolls the release back, then verifies.

options:
  --stack STACK                  the Pulumi stack
  --to VERSION|last-good         the stack version to return to (\`runbook history\`, \`pulumi stack history\`);
                                 last-good: the newest one whose update succeeded
  --restore-snapshot auto|PATH   restore this snapshot before rolling the release back
  --keep-database                roll back without a restore although the schema cannot be compared
                                 (no schemaVersionQuery): you know the schema is compatible
  --yes                          carry the rollback out (otherwise: plan only)
  --no-cluster                   do not read release revisions from the cluster for the plan
  --json                         print one JSON object: {ok, plan, restore?, update?}
  -h, --help                     this text

environment: PG_DSN (else the stack's pgDsn or dsnSecret) for the schema check and the restore; the Pulumi
CLI on PATH with PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE as for \`pulumi up\`; KUBECONFIG.

exit codes: 0 planned or rolled back and verified, 1 refused or failed, 2 bad usage`;

function describePlan(plan: RollbackPlan): string {
  const lines = [
    `rollback to version ${plan.toVersion}${plan.target ? `: ${describeTargets(plan.target.targets)}` : ""}`,
  ];
  lines.push(plan.changes.length === 0 ? "  changes: none (the config already holds these targets)" : "  changes:");
  for (const c of plan.changes) lines.push(`    ${c.key}: ${c.from ?? "(unset)"} → ${c.to ?? "(unset)"}`);
  const s = plan.schema;
  lines.push(
    `  schema: now ${s.current === undefined ? "unknown (no schemaVersionQuery)" : s.current}, version ${plan.toVersion} ran with ${s.target ?? "unrecorded"}`,
  );
  lines.push(
    `  restore: ${plan.restore.needed ? `yes, ${plan.restore.snapshot?.path ?? "?"}` : "no"}${plan.restore.reason ? ` (${plan.restore.reason})` : ""}`,
  );
  lines.push("  steps:");
  if (plan.restore.needed)
    lines.push("    restore: fresh snapshot of the current database, then restore the named snapshot");
  for (const step of plan.steps) lines.push(`    ${step}`);
  if (plan.refusal) lines.push(`REFUSED: ${plan.refusal}`);
  return lines.join("\n");
}

/** `--to last-good`: the newest stack version whose update succeeded (what a failed up's message names). */
const LAST_GOOD = "last-good";

export const rollbackCommand: CliCommand = {
  name: "rollback",
  summary: "re-apply an earlier stack version's targets through the pipeline, restoring the DB when needed",
  help,
  options: {
    stack: { type: "string" },
    to: { type: "string" },
    "restore-snapshot": { type: "string" },
    "keep-database": { type: "boolean" },
    yes: { type: "boolean" },
    "no-cluster": { type: "boolean" },
  },
  async run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const stack = stackName(values);
    const lastGood = values.to === LAST_GOOD;
    const requested = Number(values.to);
    if (typeof values.to !== "string" || (!lastGood && (!Number.isInteger(requested) || requested < 1))) {
      throw new UsageError(
        `--to VERSION is required: a stack version number from \`runbook history\`, or ${LAST_GOOD} (the newest update that succeeded)`,
      );
    }
    const restoreArg = values["restore-snapshot"];
    if (restoreArg !== undefined && (typeof restoreArg !== "string" || restoreArg === "")) {
      throw new UsageError("--restore-snapshot takes `auto` or the path of a snapshot");
    }
    // Loaded on use, as in `runbook history`: the Automation API is heavy at start-up.
    const { readStackFacts } = await import("../../lib/rollback/stack-facts");
    const { applyRollback } = await import("../../lib/rollback/apply");
    const { currentSchemaVersion } = await import("../../lib/rollback/current-schema");
    const { stackDsn } = await import("../../lib/rollback/rollback-dsn");
    const facts = await readStackFacts(stack, env, { cluster: values["no-cluster"] !== true });
    const to = lastGood ? (lastGoodVersion(facts.history) ?? 0) : requested;
    const current = targetsFromConfig(facts.config);
    const dsn = await stackDsn(facts.config, env);
    const schemaNow = await currentSchemaVersion(facts.config, dsn);
    let restoreSnapshot: "auto" | SnapshotRecord | undefined;
    if (restoreArg === "auto") restoreSnapshot = "auto";
    else if (typeof restoreArg === "string") {
      const known = facts.history
        .map((e) => e.snapshot)
        .find((s) => s !== undefined && (s.path === restoreArg || s.name === restoreArg));
      restoreSnapshot = known ?? {
        name: restoreArg,
        path: restoreArg,
        manifestPath: "",
        sha256: "",
        createdAt: "",
        schemaVersion: null,
      };
    }
    const plan = planRollback({
      history: facts.history,
      toVersion: to,
      current,
      currentSchemaVersion: schemaNow,
      restoreSnapshot,
      keepDatabase: values["keep-database"] === true,
    });
    const planText = describePlan(plan);
    if (plan.refusal !== undefined || values.yes !== true) {
      const hint = plan.refusal === undefined ? "\nplan only: re-run with --yes to carry it out" : "";
      return {
        ok: plan.refusal === undefined,
        json: { ok: plan.refusal === undefined, applied: false, plan },
        text: planText + hint,
      };
    }
    process.stderr.write(`${planText}\n`);
    const outcome = await applyRollback(facts.stack, plan, {
      config: facts.config,
      current,
      snapshotDir: facts.snapshotDir,
      store: facts.store,
      dsn,
      env,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    const ok = outcome.update.result === "succeeded";
    return {
      ok,
      json: { ok, applied: true, plan, ...outcome },
      text:
        `${planText}\nrolled back: update ${outcome.update.version ?? "?"} ${outcome.update.result}; verification ${String(outcome.update.outputs.verification ?? "-")}\n` +
        `commit Pulumi.${stack}.yaml: it now holds version ${to}'s targets`,
    };
  },
};
