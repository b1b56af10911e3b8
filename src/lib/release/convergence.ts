/**
 * Does the live release already run what the stack wants? Compared at program time (preview and up) so
 * that every guard runs before a release change, whatever caused it: a new target, a hand `helm rollback`
 * or `helm upgrade`, a failed or interrupted earlier up. When the live release is in sync, nothing runs.
 */
import { withoutNote } from "./release-inputs";

/** The latest revision of the live release, as Helm recorded it, and the images its Deployments run. */
export interface LiveRelease {
  readonly revision: number;
  /** deployed, failed, superseded, pending-upgrade… */
  readonly status: string;
  readonly chartVersion: string;
  /** Helm's description of the revision: ours after a `pulumi up`, Helm's own after a hand operation. */
  readonly description: string;
  /** Image tag (or sha256: digest) per container name of the release's Deployments. */
  readonly imageTags: Readonly<Record<string, string>>;
}

export interface DesiredRelease {
  /** The description this stack's target writes (see releaseDescription). */
  readonly description: string;
  readonly chartVersion: string;
  readonly imageTags: Readonly<Record<string, string>>;
}

export interface Convergence {
  /** True when the live release is this stack's target, deployed: an up changes nothing. */
  readonly inSync: boolean;
  /** Why not, in an operator's words; empty when in sync. */
  readonly reasons: readonly string[];
}

export function assessConvergence(live: LiveRelease | undefined, desired: DesiredRelease): Convergence {
  if (live === undefined) return { inSync: false, reasons: ["the release is not installed"] };
  const reasons: string[] = [];
  if (live.status !== "deployed") reasons.push(`revision ${live.revision} is ${live.status}`);
  if (live.chartVersion !== desired.chartVersion) {
    reasons.push(`chart ${live.chartVersion} serves, ${desired.chartVersion} is the target`);
  }
  for (const component of Object.keys(desired.imageTags).sort()) {
    const serving = live.imageTags[component];
    if (serving !== undefined && serving !== desired.imageTags[component]) {
      reasons.push(`${component} ${serving} serves, ${desired.imageTags[component]} is the target`);
    }
  }
  if (withoutNote(live.description) !== desired.description) {
    reasons.push(`revision ${live.revision} was made by "${truncate(live.description, 80)}", not by this target`);
  }
  return { inSync: reasons.length === 0, reasons };
}

/** One line for the preview: what serves now. */
export function describeLiveRelease(live: LiveRelease | undefined): string {
  if (live === undefined) return "not installed";
  const tags = Object.keys(live.imageTags)
    .sort()
    .map((c) => `${c}=${live.imageTags[c]}`)
    .join(" ");
  return `revision ${live.revision} ${live.status}, chart ${live.chartVersion}${tags === "" ? "" : `, ${tags}`}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
