import * as pulumi from "@pulumi/pulumi";
import type { RunbookConfig } from "../src/lib/config/schema";
import { describeLiveRelease, LiveRelease } from "../src/lib/release/convergence";
import { desiredRelease, DesiredReleaseFacts } from "../src/lib/release/desired-release";
import { ReleaseGuard, releaseGuard } from "../src/lib/release/guard";
import { readLiveRelease } from "../src/lib/release/live-release";
import { readLiveSchemaVersion } from "../src/lib/release/live-schema";
import { redactSecrets } from "../src/lib/redact";
import { formatDiffSummary, renderedDiff } from "../src/lib/diff";
import { releaseValues } from "./tieredRelease";
import { chartRegistryCredentials } from "./chartPull";

/** The target, what serves now, and the guard keys derived from both. */
export interface LiveObservation {
  readonly desired: DesiredReleaseFacts;
  readonly live?: LiveRelease;
  readonly guard: ReleaseGuard;
  /** What Helm will change, rendered (summary by kind and image changes); absent when nothing will change. */
  readonly renderedChanges?: string;
  /** The live schema version (schemaVersionQuery); null when none is configured or it could not be read. */
  readonly liveSchemaVersion: string | null;
}

/**
 * Reads the live release at program time (preview and up alike) and prints what serves and whether the up
 * will change it. Never throws: a live release that cannot be read is reported, and every guard then runs.
 */
export async function observeLiveRelease(
  config: RunbookConfig,
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LiveObservation> {
  const desired = desiredRelease(config, projectDir);
  const target = { namespace: config.namespace, ...(config.kubeContext ? { context: config.kubeContext } : {}) };
  let live: LiveRelease | undefined;
  let problem: string | undefined;
  try {
    live = await readLiveRelease(config.releaseName, target, env);
  } catch (err) {
    problem = redactSecrets((err as Error).message, env);
  }
  const guard = releaseGuard(desired, live, problem);
  const liveSchemaVersion = await liveSchemaOf(config, target, env);
  const subject = `release ${config.namespace}/${config.releaseName}`;
  if (problem !== undefined) {
    pulumi.log.warn(`${subject}: the live release could not be read (${problem}); every guard runs`);
  } else {
    const schema = liveSchemaVersion === null ? "" : `, schema version ${liveSchemaVersion}`;
    pulumi.log.info(`${subject} serves: ${describeLiveRelease(live)}${schema}; the target: ${desired.description}`);
    pulumi.log.info(
      guard.inSync
        ? `${subject} is the target: no guard runs, nothing changes`
        : `${subject} will change (${guard.convergence.reasons.join("; ")}): preflight and a snapshot run first`,
    );
  }
  const renderedChanges = guard.inSync ? undefined : await renderedChangesOf(config, env);
  return {
    desired,
    ...(live ? { live } : {}),
    guard,
    ...(renderedChanges ? { renderedChanges } : {}),
    liveSchemaVersion,
  };
}

/** The live schema version, when a query is configured; a failure to read it is a warning. */
async function liveSchemaOf(
  config: RunbookConfig,
  target: { namespace: string; context?: string },
  env: NodeJS.ProcessEnv,
): Promise<string | null> {
  if (config.schemaVersionQuery === undefined) return null;
  // The secret pgDsn in plain, for this one connection: it is never logged or exported.
  const dsn = pulumi.runtime.getConfig(`${config.project}:pgDsn`) || undefined;
  try {
    return await readLiveSchemaVersion(
      {
        query: config.schemaVersionQuery,
        ...(dsn ? { dsn } : {}),
        ...(config.dsnSecret ? { dsnSecret: config.dsnSecret } : {}),
        target,
      },
      env,
    );
  } catch (err) {
    pulumi.log.warn(
      `the live schema version could not be read: ${redactSecrets((err as Error).message, { ...env, PG_DSN: dsn })}`,
    );
    return null;
  }
}

/**
 * The objects Helm will change, rendered with the target values and compared with the live revision (the
 * em-runtime guide's `helm diff upgrade`), printed in preview and up. Only when the release will change:
 * rendering costs a `helm template`. A failure to render is a warning, never a failed preview.
 */
async function renderedChangesOf(config: RunbookConfig, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  // An oci:// chart's registry credentials: helm template logs in to a private temporary registry config.
  const registryCredentials = chartRegistryCredentials(config);
  try {
    const diff = await renderedDiff(
      {
        release: config.releaseName,
        namespace: config.namespace,
        ...(config.kubeContext ? { context: config.kubeContext } : {}),
        chart: config.chart,
        valuesFiles: config.valuesFiles,
        values: releaseValues(config.siteValues, config.imageTags),
        ...(registryCredentials === undefined ? {} : { registryCredentials }),
      },
      env,
    );
    const text = formatDiffSummary(diff);
    pulumi.log.info(`what Helm will change (runbook diff prints every object's diff):\n${text}`);
    return text;
  } catch (err) {
    const redactEnv = { ...env, CHART_REGISTRY_PASSWORD: registryCredentials?.password };
    pulumi.log.warn(`the rendered diff is not available: ${redactSecrets((err as Error).message, redactEnv)}`);
    return undefined;
  }
}
