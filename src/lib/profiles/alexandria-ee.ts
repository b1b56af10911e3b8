/** Alexandria EE, as ../shared/runbooks/alexandria-ee-helm-upgrade.txt runs it: tiers, pinned image tags, one database. */
import type { Profile } from "./types";

/** Alexandria EE's license tiers; each picks values-<tier>.yaml and the tier /license must report. */
export const TIERS = ["starter", "professional", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];

/** The components whose image tags Alexandria EE's chart pins (`image.<component>.tag`); every stack pins all three. */
export const ALEXANDRIA_COMPONENTS = ["api", "orchestrator", "dashboard"] as const;

export const ALEXANDRIA_EE: Profile = {
  application: "alexandria-ee",
  defaultReleaseName: "alexandria-ee",
  refusedKeys: {},
  tier: "required",
  pinnableImages: ALEXANDRIA_COMPONENTS,
  requiredImages: ALEXANDRIA_COMPONENTS,
  otherImagesPinnable: true,
  health: { kind: "alexandria-endpoints" },
  logSources: [{ kind: "container", container: "api" }],
  backupSecrets: [],
  versionSource: "api-tag",
  snapshotScope: "database",
  pods: { preflightScope: "release" },
};
