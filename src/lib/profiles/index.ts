/** The application profiles, one per application the runbook knows. */
import { ALEXANDRIA_EE } from "./alexandria-ee";
import { EM_RUNTIME } from "./em-runtime";
import type { Application, LogSource, Profile, VersionSource } from "./types";

export * from "./types";
export { ALEXANDRIA_COMPONENTS, ALEXANDRIA_EE, TIERS } from "./alexandria-ee";
export type { Tier } from "./alexandria-ee";
export { EM_RUNTIME, EM_RUNTIME_BACKUP_SECRETS, EM_RUNTIME_COMPONENTS, EM_RUNTIME_HEALTH_PATH } from "./em-runtime";

export const PROFILES: Readonly<Record<Application, Profile>> = {
  "alexandria-ee": ALEXANDRIA_EE,
  "em-runtime": EM_RUNTIME,
};

export function profileFor(application: Application): Profile {
  return PROFILES[application];
}

/** The Deployment a `deployment` log source names, e.g. em-runtime-governance. */
export function logSourceName(releaseName: string, source: LogSource): string {
  return source.kind === "deployment" ? `${releaseName}-${source.component}` : source.container;
}

/** "The version" of a target as the profile reads it, with what it is called in messages. */
export function targetVersion(
  source: VersionSource,
  target: { readonly chartVersion: string; readonly imageTags: Readonly<Record<string, string>> },
): { readonly label: "api" | "chart"; readonly version?: string } {
  return source === "chart-version"
    ? { label: "chart", version: target.chartVersion }
    : { label: "api", version: target.imageTags.api };
}
