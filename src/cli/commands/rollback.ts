import type { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { formatChecks } from "../../lib/check";
import type { SnapshotRecord } from "../../lib/rollback/history";
import { lastGoodVersion, planRollback } from "../../lib/rollback/plan";
import type { ProvenPlan } from "../../lib/rollback/prove";
import type { RollbackContext } from "../../lib/rollback/run-rollback";
import { describeTargets, targetsFromConfig } from "../../lib/rollback/targets";
import { optionalString } from "../flags";
import { crashAfterStep } from "../test-hooks";
import { stackName } from "./history";

const help = `usage: runbook rollback --stack STACK --to VERSION [--restore-snapshot auto|PATH] [--keep-database]
                        [--values-at-head] [--yes] [--json]
       runbook rollback --stack STACK --resume [--journal PATH] [--json]
       runbook rollback --stack STACK --abort [--journal PATH] [--json]

Rolls the stack back to the complete config stack version VERSION ran with (see \`runbook history\`): every
non-secret key (image tags and repositories, chart and chart version, tier, site values, values files...),
through the same guarded pipeline (\`pulumi up\`: preflight, a fresh snapshot, helm upgrade --atomic,
verification). Secrets stay as they are now.

The plan is proven before anything changes (and is all that runs without --yes): version VERSION's config is
validated as the program validates it; the values files here are compared with the values the Helm revision
of VERSION recorded (if they differ: check out the commit that ran VERSION, or pass --values-at-head); every
preflight check runs against VERSION's target (the schema guard on the schema the restore will leave); and a
real \`pulumi preview\` of VERSION's config runs (the stack file is put back byte for byte afterwards). Any
failure refuses the rollback. A return to an api tag this stack already ran is not an upgrade: the minor-
version gate does not ask for acknowledgeUpgrade, and the unhealthy pods of the release being undone do not
stop it.

The database: when its schema version (schemaVersionQuery) is not the one VERSION ran with, rollback refuses
unless --restore-snapshot names the snapshot to restore (auto = the one taken before the upgrade being undone).

With --yes, in order, each step recorded in a journal next to the snapshots
(DIR/STACK-rollback-TIME.rollback-journal.json, with a copy of the stack file as it was):
  1. scaled-down        the release's Deployments and StatefulSets scaled to zero (their replicas recorded in
                        the journal and in the annotation release-runbook/replicas-before-rollback)
  2. database-restored  \`runbook restore\`: a fresh snapshot of the current database, then the chosen snapshot
                        restored (the current database kept, renamed, never dropped)
  3. release-applied    the stack file set to VERSION's config, \`pulumi up\`
  4. verified           the workloads back at their replicas, running VERSION's images
If it dies or a step fails: --resume goes on from the journal; --abort puts the pre-rollback database (by
restoring the fresh snapshot, or aborting an unfinished restore), the stack file, the release and the replicas
back. Neither drops a kept database.

One operation at a time: the rollback holds the runbook lock on the database for its whole run and hands it to
the restore and the pipeline's snapshot it runs; a second rollback, restore or snapshot is refused, naming it.

options:
  --stack STACK                  the Pulumi stack
  --to VERSION|last-good         the stack version to return to; last-good: the newest whose update succeeded
  --restore-snapshot auto|PATH   restore this snapshot before rolling the release back
  --keep-database                roll back without a restore although the schema cannot be compared
  --values-at-head               roll back with the values files as they are in this checkout, although they
                                 differ from what VERSION ran with
  --yes                          carry the rollback out (otherwise: the proven plan only)
  --resume                       finish the rollback a journal records
  --abort                        undo the rollback a journal records
  --journal PATH                 the journal of --resume/--abort (default: the stack's unfinished one)
  --no-cluster                   do not read release revisions from the cluster for the plan
  --json                         print one JSON object: {ok, applied, plan, proof, outcome?}
  -h, --help                     this text

environment: PG_DSN (else the stack's pgDsn or dsnSecret) for the schema check, the lock and the restore; the
Pulumi CLI on PATH with PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE as for \`pulumi up\`; KUBECONFIG; kubectl.

exit codes: 0 planned, rolled back and verified, resumed or aborted; 1 refused or failed; 2 bad usage`;

function describeProof(proven: ProvenPlan): string {
  const plan = proven.plan;
  const lines = [
    `rollback to version ${plan.toVersion}${plan.target ? `: ${describeTargets(plan.target.targets)}` : ""}`,
  ];
  lines.push(proven.configChanges.length === 0 ? "  config changes: none" : "  config changes (stack file):");
  for (const c of proven.configChanges) lines.push(`    ${c.key}: ${c.from ?? "(unset)"} → ${c.to ?? "(unset)"}`);
  const s = plan.schema;
  lines.push(
    `  schema: now ${s.current === undefined ? "unknown (no schemaVersionQuery)" : s.current}, version ${plan.toVersion} ran with ${s.target ?? "unrecorded"}`,
  );
  lines.push(
    `  restore: ${plan.restore.needed ? `yes, ${plan.restore.snapshot?.path ?? "?"}` : "no"}${plan.restore.reason ? ` (${plan.restore.reason})` : ""}`,
  );
  const v = proven.values;
  if (v !== undefined) {
    lines.push(
      v.state === "same"
        ? `  values files: as version ${plan.toVersion} ran with them (Helm revision ${v.revision})`
        : v.state === "different"
          ? `  values files: DIFFER from what version ${plan.toVersion} ran with (Helm revision ${v.revision}): ${v.paths.join(", ")}`
          : `  values files: not compared: ${v.reason}`,
    );
  }
  if (proven.preflight !== undefined) {
    lines.push(`  preflight of version ${plan.toVersion}'s target:`);
    lines.push(
      ...formatChecks(proven.preflight.checks)
        .split("\n")
        .map((l) => `    ${l}`),
    );
  }
  if (proven.preview !== undefined) {
    lines.push(
      proven.preview.ok
        ? `  pulumi preview of version ${plan.toVersion}'s config: ok (${proven.preview.summary})`
        : `  pulumi preview of version ${plan.toVersion}'s config: FAILED`,
    );
    const changed = proven.preview.output
      .split("\n")
      .filter((l) => /^\s+[~+-]|^\s*\+-|^Resources:|^\s+\d+ (to|unchanged)|release-runbook:/.test(l))
      .slice(0, 40);
    lines.push(...changed.map((l) => `    ${l}`));
  }
  if (plan.restore.needed || proven.refusals.length === 0) {
    lines.push("  steps with --yes (each recorded in the rollback journal):");
    lines.push("    1. scale the release's workloads to zero (replicas recorded)");
    if (plan.restore.needed) {
      lines.push("    2. fresh snapshot of the current database, then restore the snapshot above");
    }
    lines.push(`    3. pulumi up to version ${plan.toVersion}'s config (${plan.steps.join("; ")})`);
    lines.push("    4. verify: workloads back at their replicas, running the target images");
  }
  for (const r of proven.refusals) lines.push(`REFUSED: ${r}`);
  return lines.join("\n");
}

/** `--to last-good`: the newest stack version whose update succeeded (what a failed up's message names). */
const LAST_GOOD = "last-good";

export const rollbackCommand: CliCommand = {
  name: "rollback",
  summary: "return to an earlier stack version's config through the pipeline, restoring the DB when needed",
  help,
  options: {
    stack: { type: "string" },
    to: { type: "string" },
    "restore-snapshot": { type: "string" },
    "keep-database": { type: "boolean" },
    "values-at-head": { type: "boolean" },
    yes: { type: "boolean" },
    resume: { type: "boolean" },
    abort: { type: "boolean" },
    journal: { type: "string" },
    "no-cluster": { type: "boolean" },
  },
  async run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const stack = stackName(values);
    if (values.resume === true || values.abort === true) return finishRollback(stack, values, env);
    if (values.journal !== undefined) throw new UsageError("--journal goes with --resume or --abort");
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
    const { proveRollback } = await import("../../lib/rollback/prove");
    const { currentSchemaVersion } = await import("../../lib/rollback/current-schema");
    const { stackDsn } = await import("../../lib/rollback/rollback-dsn");
    const facts = await readStackFacts(stack, env, { cluster: values["no-cluster"] !== true });
    const dsn = await stackDsn(facts.config, env);
    const to = lastGood ? (lastGoodVersion(facts.history) ?? 0) : requested;
    // With --yes the lock is taken before the plan is proven: what the proof reads must not move under it.
    const prove = async () => {
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
        current: targetsFromConfig(facts.config),
        currentSchemaVersion: schemaNow,
        restoreSnapshot,
        keepDatabase: values["keep-database"] === true,
      });
      return proveRollback(facts, plan, {
        stackName: stack,
        ...(dsn === undefined ? {} : { dsn }),
        valuesAtHead: values["values-at-head"] === true,
        env,
      });
    };
    const proofJson = (proven: ProvenPlan) => ({
      configChanges: proven.configChanges,
      values: proven.values,
      preflight: proven.preflight && { ok: proven.preflight.ok, checks: proven.preflight.checks },
      preview: proven.preview && {
        ok: proven.preview.ok,
        summary: proven.preview.summary,
        error: proven.preview.error,
      },
      refusals: proven.refusals,
    });
    if (values.yes !== true) {
      const proven = await prove();
      const refused = proven.refusals.length > 0;
      const hint = refused ? "\nnothing was changed" : "\nplan only: re-run with --yes to carry it out";
      return {
        ok: !refused,
        json: { ok: !refused, applied: false, plan: proven.plan, proof: proofJson(proven) },
        text: describeProof(proven) + hint,
      };
    }
    const { startRollback } = await import("../../lib/rollback/run-rollback");
    return underLock(`rollback --to ${to}`, dsn, env, async (lock) => {
      const proven = await prove();
      const proofText = describeProof(proven);
      if (proven.refusals.length > 0) {
        return {
          ok: false,
          json: { ok: false, applied: false, plan: proven.plan, proof: proofJson(proven) },
          text: `${proofText}\nnothing was changed`,
        };
      }
      process.stderr.write(`${proofText}\n`);
      const outcome = await startRollback(proven, rollbackContext(facts, stack, dsn, env, lock));
      const update = outcome.update;
      return {
        ok: true,
        json: { ok: true, applied: true, plan: proven.plan, proof: proofJson(proven), ...outcome },
        text:
          `${proofText}\nrolled back to version ${to}: update ${update?.version ?? "?"} ${update?.result ?? "-"}; ` +
          `verification ${String(update?.outputs.verification ?? "-")}\n` +
          (outcome.restore?.keptDatabase
            ? `the database the application ran on is kept as ${outcome.restore.keptDatabase}; its fresh snapshot is ${outcome.restore.preRestoreSnapshot ?? "?"}\n`
            : "") +
          `journal: ${outcome.journal}\ncommit Pulumi.${stack}.yaml: it now holds version ${to}'s config`,
      };
    });
  },
};

type Lock = import("../../lib/lock/operation-lock").HeldLock;

/** Runs the work holding the operation lock on the stack's database (none when no DSN is known). */
async function underLock<T>(
  command: string,
  dsn: string | undefined,
  env: NodeJS.ProcessEnv,
  work: (lock: Lock | undefined) => Promise<T>,
): Promise<T> {
  if (dsn === undefined) {
    process.stderr.write("warning: no DSN known (PG_DSN, pgDsn, dsnSecret): the rollback runs without the lock\n");
    return work(undefined);
  }
  const { withOperationLock } = await import("../../lib/lock/operation-lock");
  const { parsePgDsn } = await import("../../lib/pg/connection");
  const connection = parsePgDsn(dsn);
  return withOperationLock({ connection, database: connection.database, command, env }, (lock) => work(lock));
}

function rollbackContext(
  facts: { stack: RollbackContext["stack"]; snapshotDir: string; store?: RollbackContext["store"] },
  stack: string,
  dsn: string | undefined,
  env: NodeJS.ProcessEnv,
  lock: Lock | undefined,
): RollbackContext {
  const afterStep = crashAfterStep(env);
  return {
    stack: facts.stack,
    stackName: stack,
    snapshotDir: facts.snapshotDir,
    ...(dsn === undefined ? {} : { dsn }),
    env,
    progress: (line) => process.stderr.write(`runbook rollback: ${line}\n`),
    ...(lock === undefined ? {} : { lock }),
    ...(facts.store === undefined ? {} : { store: facts.store }),
    ...(afterStep === undefined ? {} : { afterStep }),
  };
}

/** --resume or --abort of the rollback a journal records. */
async function finishRollback(stack: string, values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
  if (values.resume === true && values.abort === true) throw new UsageError("--resume and --abort exclude each other");
  const verb = values.resume === true ? "--resume" : "--abort";
  for (const flag of ["to", "restore-snapshot", "keep-database", "values-at-head", "yes"]) {
    if (values[flag] !== undefined) {
      throw new UsageError(`--${flag} does not go with ${verb}: the journal records the rollback to finish`);
    }
  }
  const { readStackFacts } = await import("../../lib/rollback/stack-facts");
  const { stackDsn } = await import("../../lib/rollback/rollback-dsn");
  const { rollbackJournals } = await import("../../lib/rollback/rollback-journal");
  const { resumeRollback, abortRollback } = await import("../../lib/rollback/run-rollback");
  const facts = await readStackFacts(stack, env, { cluster: false });
  let journal = optionalString(values, "journal");
  if (journal === undefined) {
    const found = await rollbackJournals(facts.snapshotDir, stack);
    const unfinished = found.filter((f) => f.journal.status === "running");
    const chosen = unfinished[unfinished.length - 1] ?? (verb === "--abort" ? found[found.length - 1] : undefined);
    if (chosen === undefined) {
      throw new UsageError(
        `no unfinished rollback of stack ${stack} is recorded in ${facts.snapshotDir}; name its journal with --journal PATH`,
      );
    }
    journal = chosen.file;
  }
  const dsn = await stackDsn(facts.config, env);
  const file = journal;
  if (values.resume === true) {
    const outcome = await underLock(`rollback --resume`, dsn, env, (lock) =>
      resumeRollback(file, rollbackContext(facts, stack, dsn, env, lock)),
    );
    return {
      ok: true,
      json: { ok: true, resumed: true, ...outcome },
      text:
        `resumed the rollback recorded in ${outcome.journal} after step ${outcome.from ?? "?"}: complete\n` +
        (outcome.update
          ? `update ${outcome.update.version ?? "?"} ${outcome.update.result}; verification ${String(outcome.update.outputs.verification ?? "-")}\n`
          : "") +
        (outcome.restore?.keptDatabase
          ? `the database the application ran on is kept as ${outcome.restore.keptDatabase}\n`
          : "") +
        `commit Pulumi.${stack}.yaml: it now holds the rollback's target config`,
    };
  }
  const outcome = await underLock(`rollback --abort`, dsn, env, (lock) =>
    abortRollback(file, rollbackContext(facts, stack, dsn, env, lock)),
  );
  return {
    ok: true,
    json: { ok: true, aborted: true, ...outcome },
    text: [`aborted the rollback recorded in ${outcome.journal}:`, ...outcome.actions.map((a) => `  ${a}`)].join("\n"),
  };
}
