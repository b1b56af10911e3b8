/**
 * What an application's runbook decides and the rest of the program reads: which config keys apply, the
 * defaults that differ by application, the images a stack may pin, how health is checked, whose logs are
 * read, which Secrets are saved, what "the version" is for the minor-version gate, and what the snapshot
 * covers. One Profile per application; the validated config carries the stack's (RunbookConfig.profile).
 */
export const APPLICATIONS = ["alexandria-ee", "em-runtime"] as const;
export type Application = (typeof APPLICATIONS)[number];

/** What a snapshot covers: the application's one database (`pg_dump`), or every database and role (`pg_dumpall`). */
export const SNAPSHOT_SCOPES = ["database", "server"] as const;
export type SnapshotScope = (typeof SNAPSHOT_SCOPES)[number];

/** How verification decides the application is healthy. */
export type HealthCheck =
  /** Alexandria EE's own endpoints: /ready, /auth/setup (on a first install) and /license against the tier. */
  | { readonly kind: "alexandria-endpoints" }
  /** One path on baseUrl that must answer 2xx (em-runtime: /api/governance/health). */
  | { readonly kind: "path"; readonly path: string };

/** Logs read after the upgrade for startup and migration errors. */
export type LogSource =
  /** A container of the release's pods (Alexandria EE: `api`). */
  | { readonly kind: "container"; readonly container: string }
  /** A Deployment named `<release>-<component>` (em-runtime: governance, assets, utils). */
  | { readonly kind: "deployment"; readonly component: string };

/**
 * What "the version" is for the minor-version gate: the target `api` image tag (Alexandria EE), or the chart
 * version (em-runtime, whose chart pins every image).
 */
export type VersionSource = "api-tag" | "chart-version";

export interface Profile {
  readonly application: Application;
  /** The Helm release name when `releaseName` is not set. */
  readonly defaultReleaseName: string;
  /**
   * Config keys (src/lib/config/keys.ts) that do not apply to this application, each with why and what to do
   * instead. Named as strings so that profiles do not import the config (test/unit/profiles.test.ts checks
   * each is a key).
   */
  readonly refusedKeys: Readonly<Record<string, string>>;
  /** Whether the stack names a license tier (and a tier values file). */
  readonly tier: "required" | "none";
  /** The components whose image tags a stack may pin (`imageTags.<component>`). */
  readonly pinnableImages: readonly string[];
  /** Of those, the ones every stack must pin; none when the chart version pins them. */
  readonly requiredImages: readonly string[];
  /** Whether a component outside pinnableImages may be pinned as well. */
  readonly otherImagesPinnable: boolean;
  readonly health: HealthCheck;
  /** Read after the upgrade; empty means the log check is skipped (and says so). */
  readonly logSources: readonly LogSource[];
  /** The namespace's Secrets saved with each snapshot when `backupSecrets` is not set. */
  readonly backupSecrets: readonly string[];
  readonly versionSource: VersionSource;
  /** `snapshotScope` when not set. */
  readonly snapshotScope: SnapshotScope;
  /** How the runbook's preflight and diagnostics find the application's pods and infrastructure. */
  readonly pods: {
    /** `release`: the release's pods (`app.kubernetes.io/instance=<release>`); `namespace`: every pod in it. */
    readonly preflightScope: "release" | "namespace";
    /** Label selector of the infrastructure pods (databases) checked before the upgrade; none: not checked. */
    readonly infrastructureSelector?: string;
    /** Label selector of the identity provider whose logs diagnostics gather; none: not gathered. */
    readonly identityProviderSelector?: string;
  };
  /** A key of a Secret in the namespace that must hold `baseUrl` (em-runtime: em-runtime-secrets/base-url). */
  readonly baseUrlSecret?: { readonly name: string; readonly key: string };
}
