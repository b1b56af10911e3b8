/**
 * Validates a stack's raw config into one typed RunbookConfig before any resource is registered: each key
 * parsed by its schema (keys.ts), then the chart and values files, the images, and the rules relating keys
 * and the application's profile (cross-checks.ts). Every problem is reported at once (ConfigError), each
 * naming the key and the fix.
 */
import * as path from "node:path";
import { namespaceNameProblem, releaseNameProblem } from "../kube/names";
import { profileFor } from "../profiles";
import { validateChart, validateValuesFiles } from "./chart-files";
import { crossCheck } from "./cross-checks";
import { validateBackupSecrets, validateBaseUrl, validateDsnSecret } from "./endpoints";
import { validateImages } from "./images";
import { keysSet, parseKeys } from "./keys";
import { Reader } from "./reader";
import { ChartSource, ConfigError, RawConfig, ValidationContext, ValidationResult } from "./schema";

/** Validates the raw stack config into a RunbookConfig, or throws ConfigError listing every problem. */
export function validateConfig(raw: RawConfig, ctx: ValidationContext): ValidationResult {
  const secrets = {
    pgDsn: raw.pgDsn,
    registryPassword: raw.registryPassword,
    redisUrl: raw.redisUrl,
    chartRegistryPassword: raw.chartRegistryPassword,
  };
  const parsed = parseKeys({ ...raw.values, ...secrets }, ctx.project);
  const keys = parsed.values;
  const r = new Reader(ctx.project, keysSet({ ...raw.values, ...secrets }));
  r.problems.push(...raw.parseErrors, ...parsed.problems);

  const profile = profileFor(keys.application);
  const namespace = keys.namespace;
  const namespaceProblem = namespace === undefined ? undefined : namespaceNameProblem(namespace);
  if (namespaceProblem !== undefined) r.problem("namespace", `'${namespace}' ${namespaceProblem}`);
  const releaseName = keys.releaseName ?? profile.defaultReleaseName;
  const releaseProblem = releaseNameProblem(releaseName);
  if (releaseProblem !== undefined) r.problem("releaseName", `'${releaseName}' ${releaseProblem}`);
  // A tier the profile has no use for is refused by crossCheck; it is not read.
  const tier = profile.tier === "required" ? keys.tier : undefined;
  const chart = validateChart(r, keys, ctx);
  const valuesFiles = validateValuesFiles(r, keys, ctx, chart, tier, profile);
  const images = validateImages(r, keys, ctx, profile, keys.protected, valuesFiles);
  const baseUrl = validateBaseUrl(r, keys);
  const dsnSecret = validateDsnSecret(r, keys, raw);
  const backupSecrets = validateBackupSecrets(r, keys, profile);
  if (keys.promoteFrom !== undefined) {
    const problem = stackNameProblem(keys.promoteFrom, ctx.stack);
    if (problem !== undefined) r.problem("promoteFrom", problem);
  }
  crossCheck(r, raw, { keys, profile, chart, baseUrl, apiTag: images.tags.api });
  if (r.problems.length > 0) throw new ConfigError(r.problems);

  const { promotionOverride, promotionOverrideReason } = keys;
  return {
    warnings: r.warnings,
    config: {
      project: ctx.project,
      stack: ctx.stack,
      application: profile.application,
      profile,
      namespace: namespace as string,
      releaseName,
      chart: chart as ChartSource,
      tier,
      chartRegistry:
        keys.chartRegistryUsername === undefined || raw.chartRegistryPassword === undefined
          ? undefined
          : { username: keys.chartRegistryUsername, password: raw.chartRegistryPassword },
      valuesFiles,
      siteValues: keys.siteValues ?? {},
      imageTags: images.tags,
      imageRepositories: images.repositories,
      registryInsecure: keys.registryInsecure,
      registryUsername: keys.registryUsername,
      registryPassword: raw.registryPassword,
      baseUrl: baseUrl.text as string,
      dsnSecret,
      pgDsn: raw.pgDsn,
      schemaVersionQuery: keys.schemaVersionQuery,
      snapshot: {
        scope: keys.snapshotScope ?? profile.snapshotScope,
        dir: keys.snapshotDir ?? path.join("snapshots", ctx.stack),
        format: keys.snapshotFormat,
        jobs: keys.snapshotJobs,
        compression: keys.snapshotCompression,
        secrets: backupSecrets,
        redisUrl: raw.redisUrl,
      },
      helm: {
        timeoutSeconds: keys.helmTimeoutSeconds,
        maxHistory: keys.maxHistory,
        createNamespace: keys.createNamespace,
        adoptExistingRelease: keys.adoptExistingRelease,
        retainOnDelete: keys.retainOnDelete,
        autoRollback: keys.autoRollback,
      },
      verification: {
        readyTimeoutSeconds: keys.readyTimeoutSeconds,
        licenseWarnDays: keys.licenseWarnDays,
        // 0 (Pulumi.yaml's default) leaves the bound to the license's own seat count.
        maxSeats: keys.maxSeats || undefined,
        logLines: keys.logLines,
        healthPath: profile.health.kind === "path" ? profile.health.path : undefined,
      },
      gate: {
        protected: keys.protected,
        acknowledgeUpgrade: keys.acknowledgeUpgrade,
        destructive: keys.destructive,
        allowUnverifiedDatabaseTls: keys.allowUnverifiedDatabaseTls,
      },
      promotion: {
        from: keys.promoteFrom,
        override:
          promotionOverride === undefined || promotionOverrideReason === undefined
            ? undefined
            : { target: promotionOverride, reason: promotionOverrideReason },
      },
      kubeContext: keys.kubeContext,
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
