/**
 * Validates a stack's raw config into one typed RunbookConfig before any resource is registered. Every
 * problem is collected and reported at once (ConfigError), each naming the key and the fix.
 */
import * as path from "node:path";
import { namespaceNameProblem, releaseNameProblem } from "../kube/names";
import { validateChart, validateValuesFiles } from "./chart-files";
import { crossCheck } from "./cross-checks";
import { validateBackupSecrets, validateBaseUrl, validateDsnSecret } from "./endpoints";
import { validateImages } from "./images";
import { Reader } from "./reader";
import { readSnapshotStore } from "./snapshot-store";
import {
  APPLICATIONS,
  Application,
  ChartSource,
  ConfigError,
  EM_RUNTIME_HEALTH_PATH,
  RawConfig,
  SNAPSHOT_FORMATS,
  SnapshotFormat,
  TIERS,
  Tier,
  ValidationContext,
  ValidationResult,
} from "./schema";

/** Validates the raw stack config into a RunbookConfig, or throws ConfigError listing every problem. */
export function validateConfig(raw: RawConfig, ctx: ValidationContext): ValidationResult {
  const r = new Reader(raw.values, ctx.project);
  r.problems.push(...raw.parseErrors);

  const application = r.oneOf("application", APPLICATIONS, "alexandria-ee") as Application;
  const namespace = r.requiredString("namespace", "alexandria");
  const namespaceProblem = namespace === undefined ? undefined : namespaceNameProblem(namespace);
  if (namespaceProblem !== undefined) r.problem("namespace", `'${namespace}' ${namespaceProblem}`);
  const releaseName = r.string("releaseName") ?? application;
  const releaseProblem = releaseNameProblem(releaseName);
  if (releaseProblem !== undefined) r.problem("releaseName", `'${releaseName}' ${releaseProblem}`);
  const tier = r.oneOf("tier", TIERS);
  const isProtected = r.boolean("protected", false);
  const chart = validateChart(r, ctx);
  const valuesFiles = validateValuesFiles(r, ctx, chart, tier);
  const siteValues = readSiteValues(r, raw);
  const images = validateImages(r, ctx, application, isProtected, valuesFiles);
  const registryUsername = r.string("registryUsername");
  const registryInsecure = r.boolean("registryInsecure", false);
  const baseUrl = validateBaseUrl(r);
  const dsnSecret = validateDsnSecret(r, raw);

  const snapshotFormat = r.oneOf("snapshotFormat", SNAPSHOT_FORMATS, "directory") as SnapshotFormat;
  const snapshotJobs = r.integer("snapshotJobs", 2, 1, 64) as number;
  const timeoutSeconds = r.integer("helmTimeoutSeconds", 600, 30, 86_400) as number;
  const maxHistory = r.integer("maxHistory", 10, 0, 1000) as number;
  if (maxHistory !== 0 && maxHistory < 3) {
    r.problem(
      "maxHistory",
      `${maxHistory} revisions leave no room to roll back through a failed upgrade; use at least 3 (0 = unlimited)`,
    );
  }
  const acknowledgeUpgrade = r.string("acknowledgeUpgrade");
  const readyTimeoutSeconds = r.integer("readyTimeoutSeconds", 300, 1, 3600) as number;
  const licenseWarnDays = r.integer("licenseWarnDays", 30, 0, 3650) as number;
  // 0 (Pulumi.yaml's default) leaves the bound to the license's own seat count.
  const maxSeats = r.integer("maxSeats", 0, 0, 10_000_000) || undefined;
  const logLines = r.integer("logLines", 50, 0, 10_000) as number;
  const snapshotCompression = r.integer("snapshotCompression", 1, 0, 9) as number;
  const snapshotDir = r.string("snapshotDir") ?? path.join("snapshots", ctx.stack);
  const backupSecrets = validateBackupSecrets(r, application);
  const snapshotStore = readSnapshotStore(r, ctx.projectDir);
  const createNamespace = r.boolean("createNamespace", false);
  const adoptExistingRelease = r.boolean("adoptExistingRelease", false);
  const retainOnDelete = r.boolean("retainOnDelete", false);
  const autoRollback = r.boolean("autoRollback", true);
  const destructive = r.boolean("destructive", false);
  const allowUnverifiedDatabaseTls = r.string("allowUnverifiedDatabaseTls");
  const kubeContext = r.string("kubeContext");
  const promoteFrom = r.string("promoteFrom");
  if (promoteFrom !== undefined) {
    const problem = stackNameProblem(promoteFrom, ctx.stack);
    if (problem !== undefined) r.problem("promoteFrom", problem);
  }
  const promotionOverride = r.string("promotionOverride");
  const promotionOverrideReason = r.string("promotionOverrideReason");
  const schemaVersionQuery = r.string("schemaVersionQuery");

  crossCheck(r, raw, {
    isProtected,
    registryUsername,
    registryInsecure,
    baseUrl,
    snapshotFormat,
    snapshotJobs,
    acknowledgeUpgrade,
    apiTag: images.tags.api,
    chartVersion: chart?.version,
    promoteFrom,
    promotionOverride,
    promotionOverrideReason,
  });
  if (r.problems.length > 0) throw new ConfigError(r.problems);

  return {
    warnings: r.warnings,
    config: {
      project: ctx.project,
      stack: ctx.stack,
      application,
      namespace: namespace as string,
      releaseName,
      chart: chart as ChartSource,
      tier: tier as Tier,
      valuesFiles,
      siteValues,
      imageTags: images.tags,
      imageRepositories: images.repositories,
      registryInsecure,
      registryUsername,
      registryPassword: raw.registryPassword,
      baseUrl: baseUrl.text as string,
      dsnSecret,
      pgDsn: raw.pgDsn,
      schemaVersionQuery,
      snapshot: {
        dir: snapshotDir,
        format: snapshotFormat,
        jobs: snapshotJobs,
        compression: snapshotCompression,
        secrets: backupSecrets,
        redisUrl: raw.redisUrl,
        ...(snapshotStore === undefined
          ? {}
          : {
              store: snapshotStore,
              storeCredentials: {
                accessKeyId: raw.snapshotStoreAccessKeyId,
                secretAccessKey: raw.snapshotStoreSecretAccessKey,
              },
            }),
      },
      helm: { timeoutSeconds, maxHistory, createNamespace, adoptExistingRelease, retainOnDelete, autoRollback },
      verification: {
        readyTimeoutSeconds,
        licenseWarnDays,
        maxSeats,
        logLines,
        healthPath: application === "em-runtime" ? EM_RUNTIME_HEALTH_PATH : undefined,
      },
      gate: { protected: isProtected, acknowledgeUpgrade, destructive, allowUnverifiedDatabaseTls },
      promotion: {
        from: promoteFrom,
        override:
          promotionOverride === undefined || promotionOverrideReason === undefined
            ? undefined
            : { target: promotionOverride, reason: promotionOverrideReason },
      },
      kubeContext,
    },
  };
}

/**
 * Why `promoteFrom` cannot name a stack: Pulumi's `stack` (this project), `org/stack` or `org/project/stack`, and never
 * this stack itself. Undefined when it can.
 */
function stackNameProblem(name: string, stack: string): string | undefined {
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/.test(name)) {
    return `'${name}' is not a stack name; give it as \`pulumi stack ls\` shows it, e.g. staging or acme/release-runbook/staging`;
  }
  if (name === stack) {
    return `'${name}' is this stack; name the lower stack it promotes from (prod from staging, staging from dev)`;
  }
  return undefined;
}

/** Inline site values: an object merged over the values files. */
function readSiteValues(r: Reader, raw: RawConfig): Record<string, unknown> {
  const value = raw.values.siteValues;
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    r.problem("siteValues", "must be an object of Helm values");
    return {};
  }
  return value as Record<string, unknown>;
}
