/**
 * em-runtime, as ../shared/runbooks/em-runtime-upgrades.txt runs it: an OCI chart at a pinned version with
 * one values file (the chart version is the whole upgrade), pg_dumpall of every database, its two Secrets,
 * /api/governance/health, and the governance, assets and utils Deployments' logs for Alembic errors.
 */
import type { Profile } from "./types";

/** The services whose images em-runtime's chart pins; a stack may override their tags, never must. */
export const EM_RUNTIME_COMPONENTS = ["governance", "assets", "utils"] as const;
/** The Secrets the guide backs up before an upgrade. */
export const EM_RUNTIME_BACKUP_SECRETS = ["em-runtime-secrets", "infisical-bootstrap-secret"] as const;
/** em-runtime's health endpoint, checked instead of Alexandria's /ready, /auth/setup and /license. */
export const EM_RUNTIME_HEALTH_PATH = "/api/governance/health";

const NO_LICENSE = "em-runtime has no license endpoint to check; remove it (`pulumi config rm KEY`)";

export const EM_RUNTIME: Profile = {
  application: "em-runtime",
  defaultReleaseName: "em-runtime",
  refusedKeys: {
    tier: "em-runtime has no license tiers: its chart version pins the release; remove it (`pulumi config rm tier`)",
    tierValuesFile:
      "em-runtime takes one values file (`-f values.yaml`): set it as baseValuesFile, " +
      "then `pulumi config rm tierValuesFile`",
    licenseWarnDays: NO_LICENSE.replace("KEY", "licenseWarnDays"),
    maxSeats: NO_LICENSE.replace("KEY", "maxSeats"),
  },
  tier: "none",
  pinnableImages: EM_RUNTIME_COMPONENTS,
  requiredImages: [],
  otherImagesPinnable: false,
  health: { kind: "path", path: EM_RUNTIME_HEALTH_PATH },
  logSources: EM_RUNTIME_COMPONENTS.map((component) => ({ kind: "deployment", component })),
  backupSecrets: EM_RUNTIME_BACKUP_SECRETS,
  versionSource: "chart-version",
  snapshotScope: "server",
  pods: {
    preflightScope: "namespace",
    infrastructureSelector: "app.kubernetes.io/component=database",
    identityProviderSelector: "app=keycloak",
  },
  baseUrlSecret: { name: "em-runtime-secrets", key: "base-url" },
};
