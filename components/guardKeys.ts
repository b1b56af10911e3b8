import type { ReleaseGuard } from "../src/lib/release/guard";

/**
 * How a guard command carries the release guard's keys: in its environment, where a change re-runs it.
 * The live part is ignored while the live release is the target, so a no-op up runs nothing.
 */
export const RELEASE_INPUTS_ENV = "RUNBOOK_RELEASE_INPUTS";
export const LIVE_RELEASE_ENV = "RUNBOOK_LIVE_RELEASE";

export function guardEnvironment(guard: ReleaseGuard | undefined): Record<string, string> {
  return guard === undefined
    ? {}
    : { [RELEASE_INPUTS_ENV]: guard.releaseInputs, [LIVE_RELEASE_ENV]: guard.liveRelease };
}

/** ignoreChanges for a command's live key (and any other live-derived paths) while in sync. */
export function ignoredWhileInSync(guard: ReleaseGuard | undefined, paths: readonly string[]): string[] {
  return guard?.inSync ? [...paths] : [];
}
