import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { OperationFailed } from "../errors";
import { readSecretKey } from "../kube/secret";
import { childEnvironment } from "../child-env";
import { checkDatabase } from "../pg/check-database";
import { redactSecrets } from "../redact";
import type { RollbackPlan } from "./plan";
import { withPulumiEnvironment } from "./pulumi-environment";
import { configValue, PlainConfig } from "./stack-facts";
import { TARGET_KEYS, TargetVersions } from "./targets";

/** The DSN the stack's snapshots use: PG_DSN, else the stack's secret pgDsn, else its dsnSecret in the cluster. */
export async function stackDsn(config: PlainConfig, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.PG_DSN) return env.PG_DSN;
  const fromConfig = configValue(config, "pgDsn");
  if (fromConfig) return fromConfig;
  const secret = configValue(config, "dsnSecret");
  const namespace = configValue(config, "namespace");
  if (secret === undefined || namespace === undefined) return undefined;
  const [name, key] = secret.split("/");
  const context = configValue(config, "kubeContext");
  return (await readSecretKey(name, key, { namespace, ...(context ? { context } : {}) }, env)).trim();
}

/** The schema version now, by the stack's schemaVersionQuery; undefined when none is configured. */
export async function currentSchemaVersion(
  config: PlainConfig,
  dsn: string | undefined,
): Promise<string | null | undefined> {
  const query = configValue(config, "schemaVersionQuery");
  if (query === undefined) return undefined;
  if (dsn === undefined) {
    throw new OperationFailed("cannot read the schema version: set PG_DSN, or pgDsn/dsnSecret in the stack config");
  }
  const facts = await checkDatabase(dsn, { schemaVersionQuery: query });
  return facts.schemaVersion ?? null;
}

/** This CLI's own entry point (bin/runbook.js), found above this module whether it runs compiled or from source. */
function runbookEntry(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "bin", "runbook.js");
    if (existsSync(candidate)) return candidate;
  }
  throw new OperationFailed(`cannot find bin/runbook.js above ${__dirname}`);
}

/** Runs `runbook restore` as operators would, the DSN in its environment only. Resolves its JSON result. */
export function runRestore(
  snapshotPath: string,
  preRestoreDir: string,
  dsn: string,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  const cli = runbookEntry();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cli, "restore", "--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir, "--yes", "--json"],
      {
        // The restore needs the DSN and what finds and runs pg_dump, pg_restore and psql; no other secret.
        env: childEnvironment(env, { set: { PG_DSN: dsn } }),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // reported below with stderr
      }
      if (code === 0) resolve(json);
      else
        reject(
          new OperationFailed(
            `restore of ${snapshotPath} failed: ${redactSecrets(String(json.error ?? stderr.trim()), { ...env, PG_DSN: dsn })}`,
            json,
          ),
        );
    });
  });
}

/** Writes the target's versions into the stack's config (Pulumi.<stack>.yaml), as a person would with `pulumi config set`. */
export async function setTargetConfig(stack: Stack, current: TargetVersions, target: TargetVersions): Promise<void> {
  for (const component of Object.keys(current.imageTags)) {
    if (!(component in target.imageTags)) await stack.removeConfig(`imageTags.${component}`, true);
  }
  for (const [component, tag] of Object.entries(target.imageTags)) {
    await stack.setConfig(`imageTags.${component}`, { value: tag, secret: false }, true);
  }
  for (const key of TARGET_KEYS) {
    const value = target[key];
    if (value !== undefined) await stack.setConfig(key, { value, secret: false });
    else if (current[key] !== undefined) await stack.removeConfig(key);
  }
}

export interface RollbackOutcome {
  readonly restore?: Record<string, unknown>;
  readonly update: { readonly result: string; readonly version?: number; readonly outputs: Record<string, unknown> };
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
    dsn?: string;
    env: NodeJS.ProcessEnv;
    progress: (line: string) => void;
  },
): Promise<RollbackOutcome> {
  if (plan.refusal !== undefined || plan.target === undefined) throw new OperationFailed(plan.refusal ?? "no target");
  let restore: Record<string, unknown> | undefined;
  if (plan.restore.needed && plan.restore.snapshot !== undefined) {
    if (ctx.dsn === undefined) throw new OperationFailed("a restore is needed but no DSN is known: set PG_DSN");
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
    const result = await withPulumiEnvironment(ctx.env, () =>
      stack.up({ onOutput: (out) => ctx.progress(out.replace(/\n$/, "")), color: "never" }),
    );
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(result.outputs)) outputs[k] = v.secret ? "[secret]" : v.value;
    return {
      ...(restore ? { restore } : {}),
      update: { result: String(result.summary.result), version: result.summary.version, outputs },
    };
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
