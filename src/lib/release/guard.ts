/**
 * The keys every guard (preflight, the snapshot) and the release itself are registered with, computed from
 * the target and the live release. A change of the target changes `releaseInputs`; a live release that is
 * not the target (a hand `helm rollback`, a failed or interrupted up, a stuck release) changes `liveRelease`.
 * When the live release already is the target, the live part is ignored (ignoreChanges), so a no-op up
 * runs nothing and the live revision moving on after an up does not re-run anything.
 */
import { assessConvergence, Convergence, describeLiveRelease, LiveRelease } from "./convergence";
import type { DesiredReleaseFacts } from "./desired-release";

export interface ReleaseGuard {
  readonly convergence: Convergence;
  /** The digest of every release input. */
  readonly releaseInputs: string;
  /** What serves and why it is not the target; "in sync" when it is; "unknown: …" when it could not be read. */
  readonly liveRelease: string;
  /** The live facts as JSON, for the snapshot's manifest. */
  readonly liveFactsJson: string;
  /** True when the live release is the target: the live part of the keys is ignored. */
  readonly inSync: boolean;
  /**
   * A note for the release's description when it is applied over a live release that is not the target
   * (an upgrade, or a re-apply after drift): it makes the description differ from the last one recorded, so
   * a drifted release is re-applied even when no input changed. Undefined when in sync or not installed.
   */
  readonly reapplyNote?: string;
}

export function releaseGuard(
  desired: DesiredReleaseFacts,
  live: LiveRelease | undefined,
  readProblem?: string,
): ReleaseGuard {
  if (readProblem !== undefined) {
    // Unknown is never taken for in sync: every guard runs. The release is not forced; Helm's own diff decides.
    return {
      convergence: { inSync: false, reasons: [`the live release could not be read: ${readProblem}`] },
      releaseInputs: desired.digest,
      liveRelease: `unknown: ${readProblem}`,
      liveFactsJson: JSON.stringify({ unknown: readProblem }),
      inSync: false,
    };
  }
  const convergence = assessConvergence(live, desired);
  const facts =
    live === undefined
      ? { installed: false }
      : {
          revision: live.revision,
          status: live.status,
          chartVersion: live.chartVersion,
          imageTags: live.imageTags,
        };
  return {
    convergence,
    releaseInputs: desired.digest,
    liveRelease: convergence.inSync ? "in sync" : `${describeLiveRelease(live)}: ${convergence.reasons.join("; ")}`,
    liveFactsJson: JSON.stringify(facts),
    inSync: convergence.inSync,
    ...(live !== undefined && !convergence.inSync
      ? { reapplyNote: `applied over revision ${live.revision} (${live.status})` }
      : {}),
  };
}
