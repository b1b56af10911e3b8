import { crossesMinor } from "../release/image-tags";
import { CheckResult, fail, pass, skip } from "../check";

/** The Pulumi config key that carries the acknowledgement; preflight gets its value as --acknowledge. */
export const ACKNOWLEDGE_CONFIG_KEY = "release-runbook:acknowledgeUpgrade";

/**
 * What "the version" is, as the application's profile reads it: the `api` image tag (Alexandria EE), or the
 * chart version (em-runtime, whose chart version pins every image).
 */
export type GatedVersion = "api" | "chart";

/** What runs now, as far as preflight could tell: the api tag, or the chart version of the live release. */
export type RunningVersion =
  | { readonly state: "first-install" }
  /** `tag`: the running api tag, or the live release's chart version when the gate compares charts. */
  | { readonly state: "running"; readonly tag: string }
  /** `skipped`: the cluster was not asked (--skip-cluster); otherwise asking failed or found nothing running. */
  | { readonly state: "unknown"; readonly reason: string; readonly skipped: boolean };
/** The running api, as the gate reads it for Alexandria EE. */
export type RunningApi = RunningVersion;

export interface UpgradeGateInput {
  readonly protectedStack: boolean;
  /** The release is flagged destructive (--destructive). */
  readonly destructive: boolean;
  /** --acknowledge: must equal the exact target (api tag, or chart version) to pass the gate. */
  readonly acknowledge?: string;
  /** What the versions compared are. Default "api". */
  readonly versionOf?: GatedVersion;
  /**
   * The target: the api tag (or digest), or the chart version when versionOf is "chart"; undefined when
   * none was given.
   */
  readonly targetTag?: string;
  readonly running: RunningVersion;
}

/**
 * In a protected stack, an upgrade that crosses a minor version (where schema migrations land) or is flagged
 * destructive goes ahead only when the operator acknowledged that exact target. An acknowledgement left over
 * from an earlier upgrade does not carry over, because it names another tag.
 */
export function evaluateUpgradeGate(input: UpgradeGateInput): CheckResult {
  const name = "minor-version-gate";
  const target = input.targetTag;
  const what = input.versionOf ?? "api";
  if (target === undefined) {
    return skip(
      name,
      what === "api"
        ? "no api image given (--image api=...): the gate compares api tags"
        : "no chart version given (--chart-version): the gate compares chart versions",
    );
  }
  if (!input.protectedStack) return pass(name, "not a protected stack: no acknowledgement needed");

  const acknowledged = input.acknowledge === target;
  const reasons: string[] = [];
  if (input.destructive) reasons.push(`the release to ${what} ${target} is flagged destructive`);
  const { running } = input;
  if (running.state === "running" && crossesMinor(running.tag, target)) {
    reasons.push(`${what} ${running.tag} → ${target} crosses a minor version`);
  } else if (running.state === "unknown") {
    if (!running.skipped) {
      reasons.push(`the running ${what} version is unknown (${running.reason})`);
    } else if (reasons.length === 0) {
      return acknowledged
        ? pass(name, `${running.reason}; the upgrade to ${what} ${target} is acknowledged`)
        : skip(name, `${running.reason}, so a minor-version crossing to ${what} ${target} cannot be checked`);
    }
  }

  if (reasons.length === 0) {
    return pass(
      name,
      running.state === "running"
        ? `${what} ${running.tag} → ${target} stays within one minor version: no acknowledgement needed`
        : `first install of ${what} ${target}: no acknowledgement needed`,
    );
  }
  const why = reasons.join("; ");
  if (acknowledged) return pass(name, `${why}: acknowledged for ${target}`);
  const stale =
    input.acknowledge === undefined ? "" : ` (it is now "${input.acknowledge}", which acknowledges another target)`;
  return fail(
    name,
    `${why} in a protected stack: read the release notes' migration notes, then set ${ACKNOWLEDGE_CONFIG_KEY} to ` +
      `"${target}"${stale}: pulumi config set ${ACKNOWLEDGE_CONFIG_KEY} ${target} (runbook preflight --acknowledge ${target})`,
  );
}
