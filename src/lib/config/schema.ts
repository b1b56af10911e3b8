/**
 * The stack config's schema: every key, its type and the constants it is checked against, declared once.
 * Validation (validate.ts) fills RunbookConfig from RawConfig; Pulumi.yaml declares the same keys.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { SnapshotFormat } from "../snapshot/layout";
import type { StoreSettings } from "../snapshot-store/settings";

export { SNAPSHOT_FORMATS } from "../snapshot/layout";
export type { SnapshotFormat } from "../snapshot/layout";

export const TIERS = ["starter", "professional", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];
export const APPLICATIONS = ["alexandria-ee", "em-runtime"] as const;
export type Application = (typeof APPLICATIONS)[number];

/** The components whose image tags Alexandria EE's chart pins (`image.<component>.tag`). */
export const ALEXANDRIA_COMPONENTS = ["api", "orchestrator", "dashboard"] as const;
/** The Secrets em-runtime's runbook backs up before an upgrade, saved with the snapshot unless backupSecrets says otherwise. */
export const EM_RUNTIME_BACKUP_SECRETS = ["em-runtime-secrets", "infisical-bootstrap-secret"] as const;
/** em-runtime's health endpoint, checked instead of Alexandria's /ready, /auth/setup and /license. */
export const EM_RUNTIME_HEALTH_PATH = "/api/governance/health";

/** Where the chart comes from: a local directory, or a repository/OCI chart at a pinned version. */
export type ChartSource =
  | { readonly kind: "local"; readonly path: string; readonly version: string }
  | { readonly kind: "repository"; readonly chart: string; readonly repository?: string; readonly version: string };

/** The validated, typed config of one stack. */
export interface RunbookConfig {
  readonly project: string;
  readonly stack: string;
  readonly application: Application;
  readonly namespace: string;
  readonly releaseName: string;
  readonly chart: ChartSource;
  readonly tier: Tier;
  /** Values files in the order Helm merges them: base → tier → site (later wins). */
  readonly valuesFiles: readonly string[];
  /** Inline site values, merged on top of the files (the image tags go on top of these). */
  readonly siteValues: Readonly<Record<string, unknown>>;
  readonly imageTags: Readonly<Record<string, string>>;
  /** Image repositories (without tag) checked in the registry, per component. */
  readonly imageRepositories: Readonly<Record<string, string>>;
  readonly registryInsecure: boolean;
  readonly registryUsername?: string;
  readonly registryPassword?: pulumi.Output<string>;
  readonly baseUrl: string;
  /** The Kubernetes Secret (`name/key`) holding the application's DSN. */
  readonly dsnSecret?: { readonly name: string; readonly key: string };
  /** The DSN the runbook connects with from where `pulumi up` runs; when absent, read from dsnSecret. */
  readonly pgDsn?: pulumi.Output<string>;
  readonly schemaVersionQuery?: string;
  readonly snapshot: {
    readonly dir: string;
    readonly format: SnapshotFormat;
    readonly jobs: number;
    readonly compression: number;
    /** Kubernetes Secrets of the namespace saved with each snapshot (em-runtime's runbook names two). */
    readonly secrets: readonly string[];
    /** A Redis server whose dataset is saved with each snapshot (secret: the URL may hold a password). */
    readonly redisUrl?: pulumi.Output<string>;
    /** snapshotStore: where each snapshot is also uploaded; absent keeps them in `dir` only. */
    readonly store?: StoreSettings;
    /** snapshotStoreAccessKeyId / snapshotStoreSecretAccessKey (secrets). */
    readonly storeCredentials?: {
      readonly accessKeyId?: pulumi.Output<string>;
      readonly secretAccessKey?: pulumi.Output<string>;
    };
  };
  readonly helm: {
    readonly timeoutSeconds: number;
    readonly maxHistory: number;
    readonly createNamespace: boolean;
    readonly adoptExistingRelease: boolean;
    /** Leave the Helm release installed when Pulumi deletes the resource. */
    readonly retainOnDelete: boolean;
    /** After a failed verification whose schema did not move, roll the release back on its own. */
    readonly autoRollback: boolean;
  };
  readonly verification: {
    readonly readyTimeoutSeconds: number;
    readonly licenseWarnDays: number;
    readonly maxSeats?: number;
    readonly logLines: number;
    readonly healthPath?: string;
  };
  readonly gate: {
    readonly protected: boolean;
    readonly acknowledgeUpgrade?: string;
    readonly destructive: boolean;
    /** Why a protected stack may connect with an sslmode weaker than verify-full; absent refuses it. */
    readonly allowUnverifiedDatabaseTls?: string;
  };
  /** The promotion gate: the lower stack whose verified target this stack may run, and the emergency way past it. */
  readonly promotion: {
    /** `promoteFrom`: the stack name as given (`staging`, or `org/release-runbook/staging`); absent: no gate. */
    readonly from?: string;
    /** `promotionOverride` + `promotionOverrideReason`: the exact target (api tag or chart version) let through. */
    readonly override?: { readonly target: string; readonly reason: string };
  };
  readonly kubeContext?: string;
}

/** What loadConfig read from the stack, before validation. */
export interface RawConfig {
  readonly values: Readonly<Record<string, unknown>>;
  /** Problems found while reading (JSON that does not parse), reported with the rest. */
  readonly parseErrors: readonly string[];
  readonly pgDsn?: pulumi.Output<string>;
  readonly registryPassword?: pulumi.Output<string>;
  readonly redisUrl?: pulumi.Output<string>;
  readonly snapshotStoreAccessKeyId?: pulumi.Output<string>;
  readonly snapshotStoreSecretAccessKey?: pulumi.Output<string>;
}

export namespace RawConfig {
  /** Every config key the program reads; Pulumi.yaml declares the same list. */
  export const keys = [
    "application",
    "namespace",
    "releaseName",
    "chart",
    "chartRepository",
    "chartVersion",
    "tier",
    "baseValuesFile",
    "tierValuesFile",
    "siteValuesFile",
    "siteValues",
    "imageTags",
    "imageRepositories",
    "registryInsecure",
    "registryUsername",
    "registryPassword",
    "baseUrl",
    "dsnSecret",
    "pgDsn",
    "schemaVersionQuery",
    "snapshotDir",
    "snapshotFormat",
    "snapshotJobs",
    "snapshotCompression",
    "backupSecrets",
    "snapshotStore",
    "snapshotStoreEndpoint",
    "snapshotStoreRegion",
    "snapshotStoreAccessKeyId",
    "snapshotStoreSecretAccessKey",
    "redisUrl",
    "helmTimeoutSeconds",
    "maxHistory",
    "createNamespace",
    "adoptExistingRelease",
    "retainOnDelete",
    "autoRollback",
    "readyTimeoutSeconds",
    "licenseWarnDays",
    "maxSeats",
    "logLines",
    "protected",
    "acknowledgeUpgrade",
    "destructive",
    "allowUnverifiedDatabaseTls",
    "promoteFrom",
    "promotionOverride",
    "promotionOverrideReason",
    "kubeContext",
  ] as const;
  export const secretKeys = [
    "pgDsn",
    "registryPassword",
    "redisUrl",
    "snapshotStoreAccessKeyId",
    "snapshotStoreSecretAccessKey",
  ] as const;
}

/** Every problem in a stack's config, reported at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `The stack's config has ${problems.length} problem${problems.length === 1 ? "" : "s"}; ` +
        `nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

export interface ValidationContext {
  readonly project: string;
  readonly stack: string;
  /** Relative paths in config are resolved against this directory. */
  readonly projectDir: string;
}

export interface ValidationResult {
  readonly config: RunbookConfig;
  readonly warnings: readonly string[];
}
