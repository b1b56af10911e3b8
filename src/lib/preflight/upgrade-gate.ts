import { crossesMinor } from "../release/image-tags";
import { CheckResult, fail, pass, skip } from "../check";
import type { RanBefore } from "./ran-before";

/** The Pulumi config key that carries the acknowledgement; preflight gets its value as --acknowledge. */
export const ACKNOWLEDGE_CONFIG_KEY = "release-runbook:acknowledgeUpgrade";

/** What runs now, as far as preflight could tell. */
export type RunningApi =
  | { readonly state: "first-install" }
  /** `replicas`: 0 when the api Deployment is scaled down (a rollback in progress): the tag is set, nothing serves. */
  | { readonly state: "running"; readonly tag: string; readonly replicas?: number }
  /** `skipped`: the cluster was not asked (--skip-cluster); otherwise asking failed or found no api container. */
  | { readonly state: "unknown"; readonly reason: string; readonly skipped: boolean };

export interface UpgradeGateInput {
  readonly protectedStack: boolean;
  /** The release is flagged destructive (--destructive). */
  readonly destructive: boolean;
  /** --acknowledge: must equal the exact target api tag to pass the gate. */
  readonly acknowledge?: string;
  /** The target api tag (or digest); undefined when no api image was given. */
  readonly targetTag?: string;
  readonly running: RunningApi;
  /**
   * The target api tag already ran in this stack (ranBefore: a snapshot of this stack was taken while it
   * served). Going back to it crosses no version the stack has not run: not an upgrade to acknowledge.
   */
  readonly ranBefore?: RanBefore;
}

/**
 * In a protected stack, an upgrade that crosses a minor version (where schema migrations land) or is flagged
 * destructive goes ahead only when the operator acknowledged that exact target. An acknowledgement left over
 * from an earlier upgrade does not carry over, because it names another tag.
 */
export function evaluateUpgradeGate(input: UpgradeGateInput): CheckResult {
  const name = "minor-version-gate";
  const target = input.targetTag;
  if (target === undefined) return skip(name, "no api image given (--image api=...): the gate compares api tags");
  if (!input.protectedStack) return pass(name, "not a protected stack: no acknowledgement needed");

  const acknowledged = input.acknowledge === target;
  const reasons: string[] = [];
  if (input.destructive) reasons.push(`the release to api ${target} is flagged destructive`);
  const { running } = input;
  const returning = input.ranBefore !== undefined && input.ranBefore.tag === target ? input.ranBefore : undefined;
  if (running.state === "running" && crossesMinor(running.tag, target)) {
    if (returning === undefined) reasons.push(`api ${running.tag} → ${target} crosses a minor version`);
    else if (reasons.length === 0) {
      return pass(
        name,
        `api ${running.tag} → ${target} crosses a minor version back to a version this stack already ran ` +
          `(snapshot ${returning.snapshot} was taken while it served, ${returning.createdAt}): a return, not an upgrade`,
      );
    }
  } else if (running.state === "unknown") {
    if (!running.skipped) {
      reasons.push(`the running api version is unknown (${running.reason})`);
    } else if (reasons.length === 0) {
      return acknowledged
        ? pass(name, `${running.reason}; the upgrade to api ${target} is acknowledged`)
        : skip(name, `${running.reason}, so a minor-version crossing to api ${target} cannot be checked`);
    }
  }

  if (reasons.length === 0) {
    return pass(
      name,
      running.state === "running"
        ? `api ${running.tag} → ${target} stays within one minor version: no acknowledgement needed`
        : `first install of api ${target}: no acknowledgement needed`,
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
