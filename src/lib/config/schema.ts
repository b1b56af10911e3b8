/**
 * The validated config's shape. The keys, their types and defaults are declared once with zod in keys.ts;
 * validation (validate.ts) fills RunbookConfig from RawConfig, with the application's Profile deciding what
 * applies (src/lib/profiles).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Application, Profile, SnapshotScope, Tier } from "../profiles";
import type { SnapshotFormat } from "../snapshot/layout";
import { CONFIG_KEYS, SECRET_KEYS } from "./keys";

export { SNAPSHOT_FORMATS } from "../snapshot/layout";
export type { SnapshotFormat } from "../snapshot/layout";
export { APPLICATIONS, SNAPSHOT_SCOPES, TIERS } from "../profiles";
// Where these lived before the profiles; the profile (RunbookConfig.profile) is the place to read them from.
export { ALEXANDRIA_COMPONENTS, EM_RUNTIME_BACKUP_SECRETS, EM_RUNTIME_HEALTH_PATH } from "../profiles";
export type { Application, Profile, SnapshotScope, Tier } from "../profiles";

/** Where the chart comes from: a local directory, or a repository/OCI chart at a pinned version. */
export type ChartSource =
  | { readonly kind: "local"; readonly path: string; readonly version: string }
  | { readonly kind: "repository"; readonly chart: string; readonly repository?: string; readonly version: string };

/** The validated, typed config of one stack. */
export interface RunbookConfig {
  readonly project: string;
  readonly stack: string;
  readonly application: Application;
  /** What the application's runbook decides: health, logs, Secrets, the gate's version, the snapshot's scope. */
  readonly profile: Profile;
  readonly namespace: string;
  readonly releaseName: string;
  readonly chart: ChartSource;
  /** Alexandria EE's license tier; undefined for an application without tiers (em-runtime). */
  readonly tier?: Tier;
  /** Credentials for the chart's registry (an oci:// chart); none: anonymous. */
  readonly chartRegistry?: { readonly username: string; readonly password: pulumi.Output<string> };
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
    /** `database`: pg_dump of the application's database; `server`: every database and the roles. */
    readonly scope: SnapshotScope;
    readonly dir: string;
    readonly format: SnapshotFormat;
    readonly jobs: number;
    readonly compression: number;
    /** Kubernetes Secrets of the namespace saved with each snapshot (em-runtime's runbook names two). */
    readonly secrets: readonly string[];
    /** A Redis server whose dataset is saved with each snapshot (secret: the URL may hold a password). */
    readonly redisUrl?: pulumi.Output<string>;
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
  readonly chartRegistryPassword?: pulumi.Output<string>;
}

export namespace RawConfig {
  /** Every config key the program reads (keys.ts); Pulumi.yaml declares the same list. */
  export const keys = CONFIG_KEYS;
  export const secretKeys = SECRET_KEYS;
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
