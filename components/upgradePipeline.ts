import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { applicationChecksFor, Preflight } from "./preflight";
import { PostgresSnapshot } from "./postgresSnapshot";
import { TieredRelease } from "./tieredRelease";
import { hasNoLogSource, logComponentsFor, Verification } from "./verification";
import type { RunbookConfig } from "../src/lib/config/schema";
import type { LiveObservation } from "./liveRelease";

export interface UpgradePipelineArgs {
  /** The validated stack config. No default. */
  readonly config: RunbookConfig;
  /**
   * The target and the live release read at program time (observeLiveRelease): the guards run before every
   * release change, and a drifted release is re-applied. Default: guards keyed to their own inputs only.
   */
  readonly observation?: LiveObservation;
  /** The chart archive the program pulled (pullReleaseChart), when it had to. Default: none. */
  readonly chartArchive?: string;
}

/** `repository:tag`, or `repository@sha256:...` for a digest. */
export function imageReference(repository: string, tag: string): string {
  return tag.startsWith("sha256:") ? `${repository}@${tag}` : `${repository}:${tag}`;
}

/**
 * Whether verification sees a first install (then /auth/setup must answer 200): Helm's revision 1 of a
 * release this stack installed. Taken from the release itself, not from preflight, whose facts are as
 * old as the last target change and go stale when the cluster changes underneath.
 */
export function isFirstInstall(revision: number, adopted: boolean): boolean {
  return revision === 1 && !adopted;
}

/** What identifies a target: the snapshot is kept by these, and history reads them back. */
export function targetVersions(config: RunbookConfig): Record<string, string> {
  const versions: Record<string, string> = { chartVersion: config.chart.version };
  if (config.tier !== undefined) versions.tier = config.tier;
  for (const [component, tag] of Object.entries(config.imageTags)) versions[`image.${component}`] = tag;
  return versions;
}

/**
 * The runbook in order, each step depending on the one before: preflight → snapshot → release →
 * verification. The explicit dependsOn is what keeps the release from starting before the snapshot
 * exists; the data flowing between steps (revision, first install) is recorded, not relied on for order.
 */
export class UpgradePipeline extends pulumi.ComponentResource {
  public readonly preflight: Preflight;
  public readonly snapshot: PostgresSnapshot;
  public readonly release: TieredRelease;
  public readonly verification: Verification;

  constructor(name: string, args: UpgradePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("release-runbook:pipeline:UpgradePipeline", name, {}, opts);
    const c = args.config;
    const guard = args.observation?.guard;
    const provider =
      c.kubeContext === undefined
        ? undefined
        : new k8s.Provider(`${name}-k8s`, { context: c.kubeContext }, { parent: this });
    const images: Record<string, string> = {};
    for (const [component, tag] of Object.entries(c.imageTags)) {
      images[component] = imageReference(c.imageRepositories[component], tag);
    }
    const dsnSecretRef =
      c.dsnSecret === undefined ? undefined : `${c.namespace}/${c.dsnSecret.name}/${c.dsnSecret.key}`;

    this.preflight = new Preflight(
      `${name}-preflight`,
      {
        namespace: c.namespace,
        releaseName: c.releaseName,
        images,
        gateChartVersion: c.profile.versionSource === "chart-version" ? c.chart.version : undefined,
        registryInsecure: c.registryInsecure,
        registryUsername: c.registryUsername,
        registryPassword: c.registryPassword,
        dsnSecret: c.dsnSecret,
        pgDsn: c.pgDsn,
        schemaVersionQuery: c.schemaVersionQuery,
        protected: c.gate.protected,
        acknowledgeUpgrade: c.gate.acknowledgeUpgrade,
        destructive: c.gate.destructive,
        allowUnverifiedDatabaseTls: c.gate.allowUnverifiedDatabaseTls,
        kubeContext: c.kubeContext,
        guard,
        snapshots: { dir: c.snapshot.dir, stack: c.stack },
        applicationChecks: applicationChecksFor(c.profile, c.baseUrl),
      },
      { parent: this },
    );

    // A server snapshot (every database, as em-runtime's pg_dumpall) records each database's alembic_version
    // itself: it takes no schema query. Both kinds save the profile's Secrets and Redis.
    const server = c.snapshot.scope === "server";
    this.snapshot = new PostgresSnapshot(
      `${name}-snapshot`,
      {
        targetVersions: targetVersions(c),
        scope: c.snapshot.scope,
        dir: c.snapshot.dir,
        format: c.snapshot.format,
        jobs: c.snapshot.jobs,
        compression: c.snapshot.compression,
        namePrefix: c.releaseName,
        pgDsn: c.pgDsn,
        dsnSecretRef,
        kubeContext: c.kubeContext,
        schemaVersionQuery: server ? undefined : c.schemaVersionQuery,
        kubeSecrets:
          c.snapshot.secrets.length === 0 ? undefined : { namespace: c.namespace, names: c.snapshot.secrets },
        redisUrl: c.snapshot.redisUrl,
        store:
          server || c.snapshot.store === undefined
            ? undefined
            : {
                settings: c.snapshot.store,
                accessKeyId: c.snapshot.storeCredentials?.accessKeyId,
                secretAccessKey: c.snapshot.storeCredentials?.secretAccessKey,
              },
        protected: c.gate.protected,
        context: this.preflight.facts.apply((facts) => ({
          stack: c.stack,
          release: c.releaseName,
          namespace: c.namespace,
          tier: c.tier,
          releaseRevision: facts.releaseRevision,
          // What served, not what the Deployment names: during a rollback the release runs zero replicas
          // and the restored schema is not the one the tag being undone ran with.
          fromApiTag: facts.servingApiTag,
          toTags: c.imageTags,
          toChartVersion: c.chart.version,
          ...(guard === undefined ? {} : { liveRelease: JSON.parse(guard.liveFactsJson) as unknown }),
        })),
        guard,
      },
      { parent: this, dependsOn: [this.preflight] },
    );

    this.release = new TieredRelease(
      `${name}-release`,
      {
        namespace: c.namespace,
        releaseName: c.releaseName,
        chart: c.chart,
        ...(args.chartArchive === undefined ? {} : { chartArchive: args.chartArchive }),
        chartRegistry: c.chartRegistry,
        tier: c.tier,
        valuesFiles: c.valuesFiles,
        siteValues: c.siteValues,
        imageTags: c.imageTags,
        timeoutSeconds: c.helm.timeoutSeconds,
        maxHistory: c.helm.maxHistory,
        createNamespace: c.helm.createNamespace,
        adoptExistingRelease: c.helm.adoptExistingRelease,
        provider,
        protect: c.gate.protected,
        retainOnDelete: c.helm.retainOnDelete,
        description: args.observation?.desired.description,
        descriptionNote: guard?.reapplyNote,
        liveIsTarget: guard?.inSync ?? false,
      },
      { parent: this, dependsOn: [this.preflight, this.snapshot] },
    );

    this.verification = new Verification(
      `${name}-verification`,
      {
        baseUrl: c.baseUrl,
        expectTier: c.tier,
        firstInstall: this.release.revision.apply((revision) => isFirstInstall(revision, c.helm.adoptExistingRelease)),
        releaseRevision: this.release.revision,
        readyTimeoutSeconds: c.verification.readyTimeoutSeconds,
        licenseWarnDays: c.verification.licenseWarnDays,
        maxSeats: c.verification.maxSeats,
        namespace: c.namespace,
        releaseName: c.releaseName,
        logLines: c.verification.logLines,
        healthPath: c.verification.healthPath,
        logComponents: logComponentsFor(c.profile),
        noLogSource: hasNoLogSource(c.profile),
        kubeContext: c.kubeContext,
        onFailure: {
          autoRollback: c.helm.autoRollback,
          servedBefore: this.preflight.releaseRevision,
          preUpgradeSchema: this.snapshot.result.schemaVersion,
          preUpgradeSnapshot: this.snapshot.path,
          // em-runtime: whether a rollback is safe is read from every database the server snapshot saved.
          serverSnapshot: server,
          stack: c.stack,
          schemaVersionQuery: server ? undefined : c.schemaVersionQuery,
          helmTimeoutSeconds: c.helm.timeoutSeconds,
          pgDsn: c.pgDsn,
          dsnSecretRef,
        },
      },
      { parent: this, dependsOn: [this.release] },
    );

    this.registerOutputs({
      releaseRevision: this.release.revision,
      releaseStatus: this.release.status,
      snapshotPath: this.snapshot.path,
      verification: this.verification.summary,
    });
  }
}
