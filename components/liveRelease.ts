import * as pulumi from "@pulumi/pulumi";
import type { RunbookConfig } from "../src/lib/config/schema";
import { describeLiveRelease, LiveRelease } from "../src/lib/release/convergence";
import { desiredRelease, DesiredReleaseFacts } from "../src/lib/release/desired-release";
import { ReleaseGuard, releaseGuard } from "../src/lib/release/guard";
import { readLiveRelease } from "../src/lib/release/live-release";
import { redactSecrets } from "../src/lib/redact";

/** The target, what serves now, and the guard keys derived from both. */
export interface LiveObservation {
  readonly desired: DesiredReleaseFacts;
  readonly live?: LiveRelease;
  readonly guard: ReleaseGuard;
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
  const subject = `release ${config.namespace}/${config.releaseName}`;
  if (problem !== undefined) {
    pulumi.log.warn(`${subject}: the live release could not be read (${problem}); every guard runs`);
  } else {
    pulumi.log.info(`${subject} serves: ${describeLiveRelease(live)}; the target: ${desired.description}`);
    pulumi.log.info(
      guard.inSync
        ? `${subject} is the target: no guard runs, nothing changes`
        : `${subject} will change (${guard.convergence.reasons.join("; ")}): preflight and a snapshot run first`,
    );
  }
  return { desired, ...(live ? { live } : {}), guard };
}
