import { checkDatabase, DatabaseFacts } from "../pg/check-database";
import { parsePgDsn } from "../pg/connection";
import { evaluateDatabaseTls } from "../pg/tls-policy";
import {
  checkPodsHealthy,
  HelmRevision,
  isPendingStatus,
  KubeTarget,
  latestRevision,
  previousGoodRevision,
  readHelmHistory,
  readLatestReleaseRecord,
  readSecretKey,
  runningContainerImage,
} from "../kube";
import { redactSecrets } from "../redact";
import { checkImage, ImageCheck, ImageReference, RegistryClientOptions } from "../registry";
import { allPassed, CheckResult, fail, pass, skip } from "../check";
import { evaluateUpgradeGate, RunningApi, RunningVersion } from "./upgrade-gate";
import { checkSchemaGuard, RecordedSchema } from "./schema-guard";
import { readSnapshots } from "../rollback/snapshot-records";
import { diagnoseCommand } from "../diagnose/diagnose-command";
import { checkInfrastructurePods, checkNamespacePods } from "./namespace-pods";
import { checkHealthBefore } from "./health-before";
import { BaseUrlSecret, checkBaseUrlSecret } from "./base-url-secret";

export interface PreflightImage {
  /** api, orchestrator, dashboard… */
  readonly component: string;
  readonly ref: ImageReference;
}

/**
 * An application's own checks before an upgrade, from its profile (em-runtime's guide: every pod of the
 * namespace, the infrastructure pods, the health path, the address in its Secret). Absent: none of them run.
 */
export interface ApplicationPreflight {
  /** Check every pod of the namespace, not only the release's (`kubectl get pods -n NS`). */
  readonly allPods: boolean;
  /** The label of the infrastructure pods: app.kubernetes.io/component=database. */
  readonly infrastructureSelector?: string;
  /** The application's public address and health path, checked before the upgrade. */
  readonly health?: { readonly baseUrl: string; readonly path: string; readonly requestTimeoutMs: number };
  /** The Secret key holding the application's address, compared with baseUrl. */
  readonly baseUrlSecret?: BaseUrlSecret;
}

export interface PreflightOptions {
  readonly images: readonly PreflightImage[];
  readonly registry: RegistryClientOptions;
  /** The release in the cluster; undefined with --skip-cluster. */
  readonly cluster?: { readonly target: KubeTarget; readonly release: string };
  /** Secret NAME and KEY holding the DSN in the release's namespace (--dsn-secret). */
  readonly dsnSecret?: { readonly name: string; readonly key: string };
  /** PG_DSN: when given, the database check connects with it (the Secret is still checked for presence). */
  readonly envDsn?: string;
  readonly schemaVersionQuery?: string;
  readonly protectedStack: boolean;
  /**
   * The target chart version when the application's profile gates on it (em-runtime, whose chart version
   * pins every image): the minor-version gate then compares it with the live release's chart version
   * instead of api tags. Undefined: the gate compares api tags.
   */
  readonly gateChartVersion?: string;
  readonly destructive: boolean;
  readonly acknowledge?: string;
  /** Why a protected stack may connect with an sslmode weaker than verify-full; undefined refuses it. */
  readonly allowUnverifiedDatabaseTls?: string;
  /** Where this stack's snapshots are: the schema each version ran with (the schema guard). */
  readonly snapshots?: { readonly dir: string; readonly stack: string };
  /** The application's own checks (em-runtime). */
  readonly application?: ApplicationPreflight;
  readonly env: NodeJS.ProcessEnv;
}

export interface PreflightReport {
  readonly ok: boolean;
  readonly checks: CheckResult[];
  /** The newest Helm revision (what the snapshot manifest records); null on a first install or without the cluster. */
  readonly releaseRevision: number | null;
  readonly releaseStatus: string | null;
  /** null when the cluster was not asked or could not answer. */
  readonly firstInstall: boolean | null;
  readonly currentApiTag: string | null;
  readonly serverVersion: string | null;
  readonly schemaVersion: string | null;
  readonly images: { component: string; image: string; status: ImageCheck["status"]; digest?: string }[];
}

const SKIPPED_CLUSTER = "--skip-cluster";

/** Runs every preflight check (none stops the others) and reports them all. */
export async function runPreflight(options: PreflightOptions): Promise<PreflightReport> {
  const [images, [cluster, application], database, runningChart] = await Promise.all([
    checkImages(options),
    checkCluster(options).then(async (c) => [c, await checkApplication(options, c.history)] as const),
    checkDatabaseChain(options),
    options.gateChartVersion === undefined ? undefined : runningChartVersion(options),
  ]);
  const api = options.images.find((i) => i.component === "api");
  const gate = evaluateUpgradeGate({
    protectedStack: options.protectedStack,
    destructive: options.destructive,
    ...(options.acknowledge === undefined ? {} : { acknowledge: options.acknowledge }),
    ...(options.gateChartVersion !== undefined && runningChart !== undefined
      ? { versionOf: "chart" as const, targetTag: options.gateChartVersion, running: runningChart }
      : { ...(api === undefined ? {} : { targetTag: api.ref.tag ?? api.ref.digest }), running: cluster.running }),
  });

  // Details can quote what a library said about a connection; the DSN read from the cluster is a secret too.
  const redact = (text: string): string =>
    redactSecrets(
      database.secretDsn === undefined ? text : redactSecrets(text, { PG_DSN: database.secretDsn }),
      options.env,
    );
  const schema = await schemaGuard(
    options,
    api === undefined ? undefined : (api.ref.tag ?? api.ref.digest),
    database.facts?.schemaVersion,
  );
  const checks = [...images.checks, ...cluster.checks, ...application, ...database.checks, gate, ...schema].map(
    (c) => ({
      ...c,
      detail: redact(c.detail),
      ...(c.warning === undefined ? {} : { warning: redact(c.warning) }),
    }),
  );
  const latest = cluster.history === undefined ? undefined : latestRevision(cluster.history);
  return {
    ok: allPassed(checks),
    checks,
    releaseRevision: latest?.revision ?? null,
    releaseStatus: latest?.status ?? null,
    firstInstall: cluster.history === undefined ? null : cluster.history.length === 0,
    currentApiTag: cluster.running.state === "running" ? cluster.running.tag : null,
    serverVersion: database.facts?.serverVersion ?? null,
    schemaVersion: database.facts?.schemaVersion ?? null,
    images: images.results.map((r, i) => ({
      component: options.images[i]!.component,
      image: r.image,
      status: r.status,
      ...(r.status === "exists" && r.digest !== undefined ? { digest: r.digest } : {}),
    })),
  };
}

async function checkImages(options: PreflightOptions): Promise<{ checks: CheckResult[]; results: ImageCheck[] }> {
  const results = await Promise.all(options.images.map((i) => checkImage(i.ref, options.registry)));
  const checks = results.map((r, i) => {
    const name = `image:${options.images[i]!.component}`;
    return r.status === "exists"
      ? pass(name, `${r.image} exists${r.digest === undefined ? "" : ` (${r.digest})`}`)
      : fail(name, r.detail);
  });
  return { checks, results };
}

interface ClusterFacts {
  readonly checks: CheckResult[];
  /** undefined when the cluster was skipped or the history could not be read. */
  readonly history?: HelmRevision[];
  readonly running: RunningApi;
}

async function checkCluster(options: PreflightOptions): Promise<ClusterFacts> {
  const { cluster, env } = options;
  if (cluster === undefined) {
    return {
      checks: [
        skip("release-revision", `${SKIPPED_CLUSTER}: the Helm release revision was not read`),
        skip("pods-healthy", `${SKIPPED_CLUSTER}: the release's pods were not checked`),
      ],
      running: { state: "unknown", reason: `${SKIPPED_CLUSTER}: the running api tag was not read`, skipped: true },
    };
  }
  const { target, release } = cluster;
  const where = `${release} in namespace ${target.namespace}`;

  let history: HelmRevision[] | undefined;
  let revisionCheck: CheckResult;
  try {
    history = await readHelmHistory(release, target, env);
    revisionCheck = revisionResult(history, release, target.namespace);
  } catch (err) {
    revisionCheck = fail("release-revision", `could not read the Helm history of ${where}: ${(err as Error).message}`);
  }

  if (history !== undefined && history.length === 0) {
    return {
      checks: [revisionCheck, skip("pods-healthy", `first install of ${where}: no pods to check yet`)],
      history,
      running: { state: "first-install" },
    };
  }

  const [podsCheck, running] = await Promise.all([podsResult(release, target, env), runningApi(release, target, env)]);
  return { checks: [revisionCheck, podsCheck], ...(history === undefined ? {} : { history }), running };
}

function revisionResult(history: HelmRevision[], release: string, namespace: string): CheckResult {
  const latest = latestRevision(history);
  if (latest === undefined)
    return pass("release-revision", `no Helm release ${release} in namespace ${namespace}: first install`);
  if (isPendingStatus(latest.status)) {
    const back = previousGoodRevision(history, latest.revision);
    return fail(
      "release-revision",
      `revision ${latest.revision} of ${release} is ${latest.status}: another Helm operation is running or was interrupted; ` +
        `wait for it to finish, or clear it with helm rollback ${release} ${back?.revision ?? "<revision>"} -n ${namespace}`,
    );
  }
  return pass("release-revision", `revision ${latest.revision} of ${release} (${latest.status})`);
}

async function podsResult(release: string, target: KubeTarget, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  try {
    const health = await checkPodsHealthy(release, target, env);
    if (health.healthy) return pass("pods-healthy", `${health.podNames.length} pod(s) Running and Ready`);
    if (health.podNames.length === 0) {
      return fail(
        "pods-healthy",
        `no pods labelled app.kubernetes.io/instance=${release} in namespace ${target.namespace}`,
      );
    }
    return fail(
      "pods-healthy",
      `${health.unhealthy.length} of ${health.podNames.length} pod(s) unhealthy: ${health.unhealthy.map((p) => `${p.name} ${p.reason}`).join("; ")}`,
    );
  } catch (err) {
    return fail("pods-healthy", (err as Error).message);
  }
}

async function runningApi(release: string, target: KubeTarget, env: NodeJS.ProcessEnv): Promise<RunningApi> {
  try {
    const image = await runningContainerImage(release, target, env);
    if (image === undefined)
      return { state: "unknown", reason: "no Deployment of the release has a container named api", skipped: false };
    if (image.tag === undefined)
      return { state: "unknown", reason: `the running api image ${image.image} has no tag`, skipped: false };
    return { state: "running", tag: image.tag };
  } catch (err) {
    return { state: "unknown", reason: (err as Error).message, skipped: false };
  }
}

/** The application's own checks, once the Helm history says whether this is a first install. */
async function checkApplication(
  options: PreflightOptions,
  history: HelmRevision[] | undefined,
): Promise<CheckResult[]> {
  const app = options.application;
  if (app === undefined) return [];
  const { cluster, env } = options;
  // Unknown (no cluster, or the history could not be read): every check runs.
  const firstInstall = history !== undefined && history.length === 0;
  const noCluster = (name: string, what: string) => skip(name, `${SKIPPED_CLUSTER}: ${what} not checked`);
  const diagnose = diagnoseCommand(
    cluster?.release ?? "<release>",
    cluster?.target.namespace ?? "<namespace>",
    cluster?.target.context,
  );
  const checks: Promise<CheckResult>[] = [];
  if (app.allPods) {
    checks.push(
      cluster === undefined
        ? Promise.resolve(noCluster("namespace-pods", "the namespace's pods were"))
        : checkNamespacePods(cluster.target, cluster.release, env),
    );
  }
  if (app.infrastructureSelector !== undefined) {
    const selector = app.infrastructureSelector;
    checks.push(
      cluster === undefined
        ? Promise.resolve(noCluster("infrastructure-pods", `pods labelled ${selector} were`))
        : checkInfrastructurePods(cluster.target, selector, env),
    );
  }
  if (app.health !== undefined) {
    const { baseUrl, path, requestTimeoutMs } = app.health;
    checks.push(
      checkHealthBefore(
        { baseUrl, path, retry: { attempts: 3, timeoutMs: requestTimeoutMs, backoffMs: 500 } },
        firstInstall,
        diagnose,
      ),
    );
  }
  if (app.baseUrlSecret !== undefined) {
    const secret = app.baseUrlSecret;
    checks.push(
      cluster === undefined
        ? Promise.resolve(noCluster("base-url", `${secret.key} in Secret ${secret.name} was`))
        : checkBaseUrlSecret(secret, cluster.target, firstInstall, env),
    );
  }
  return Promise.all(checks);
}

/** The chart version of the live release (its latest revision's record), for a gate on chart versions. */
async function runningChartVersion(options: PreflightOptions): Promise<RunningVersion> {
  const { cluster, env } = options;
  if (cluster === undefined) {
    return { state: "unknown", reason: `${SKIPPED_CLUSTER}: the running chart version was not read`, skipped: true };
  }
  try {
    const record = await readLatestReleaseRecord(cluster.release, cluster.target, env);
    if (record === undefined) return { state: "first-install" };
    const version = record.chart.metadata.version;
    if (version === "") {
      return { state: "unknown", reason: `revision ${record.version} records no chart version`, skipped: false };
    }
    return { state: "running", tag: version };
  } catch (err) {
    return { state: "unknown", reason: (err as Error).message, skipped: false };
  }
}

interface DatabaseChain {
  readonly checks: CheckResult[];
  /** The DSN read from the cluster: a secret that must not reach the output. */
  readonly secretDsn?: string;
  readonly facts?: DatabaseFacts;
}

async function checkDatabaseChain(options: PreflightOptions): Promise<DatabaseChain> {
  const { cluster, dsnSecret, envDsn, env } = options;
  let secretCheck: CheckResult;
  let secretDsn: string | undefined;
  if (dsnSecret === undefined) {
    secretCheck = skip("dsn-secret", "no --dsn-secret given: the database check uses PG_DSN");
  } else if (cluster === undefined) {
    secretCheck = skip(
      "dsn-secret",
      `${SKIPPED_CLUSTER}: secret ${dsnSecret.name} (key ${dsnSecret.key}) was not read; the database check uses PG_DSN`,
    );
  } else {
    try {
      secretDsn = await readSecretKey(dsnSecret.name, dsnSecret.key, cluster.target, env);
      secretCheck = pass(
        "dsn-secret",
        `secret ${dsnSecret.name} in namespace ${cluster.target.namespace} has key ${dsnSecret.key}`,
      );
    } catch (err) {
      secretCheck = fail("dsn-secret", (err as Error).message);
    }
  }
  const found = secretDsn === undefined ? {} : { secretDsn };

  // PG_DSN wins when given: the Secret's DSN usually names an in-cluster address this machine cannot reach.
  const dsn = envDsn ?? secretDsn;
  const source =
    envDsn !== undefined || dsnSecret === undefined ? "PG_DSN" : `secret ${dsnSecret.name} key ${dsnSecret.key}`;
  if (dsn === undefined) {
    return { checks: [secretCheck, fail("database", `not checked: no DSN (${source} could not be read)`)], ...found };
  }
  try {
    const connection = parsePgDsn(dsn);
    // Decided before connecting: an unverified server must not even be sent the password.
    const tls = evaluateDatabaseTls(connection, {
      protectedStack: options.protectedStack,
      ...(options.allowUnverifiedDatabaseTls === undefined
        ? {}
        : { allowUnverifiedReason: options.allowUnverifiedDatabaseTls }),
    });
    if (!tls.allowed) {
      return { checks: [secretCheck, fail("database", `DSN from ${source}: ${tls.refusal}`)], ...found };
    }
    const facts = await checkDatabase(connection, {
      ...(options.schemaVersionQuery === undefined ? {} : { schemaVersionQuery: options.schemaVersionQuery }),
    });
    const schema =
      facts.schemaVersion === undefined
        ? ""
        : `, schema version ${facts.schemaVersion ?? "none (the query returned NULL)"}`;
    const detail = `PostgreSQL ${facts.serverVersion} answers (database ${facts.database}, DSN from ${source})${schema}`;
    return { checks: [secretCheck, pass("database", detail, tls.warning)], ...found, facts };
  } catch (err) {
    return { checks: [secretCheck, fail("database", `DSN from ${source}: ${(err as Error).message}`)], ...found };
  }
}

/** The schema guard, when the stack's snapshots are known: [] otherwise. */
async function schemaGuard(
  options: PreflightOptions,
  targetApiTag: string | undefined,
  liveSchema: string | null | undefined,
): Promise<CheckResult[]> {
  if (options.snapshots === undefined) return [];
  const records = await readSnapshots(options.snapshots.dir, options.snapshots.stack);
  const recorded: RecordedSchema[] = records.map((r) => ({
    snapshot: r.path,
    createdAt: r.createdAt,
    schemaVersion: r.schemaVersion,
    ...(typeof r.context?.fromApiTag === "string" ? { fromApiTag: r.context.fromApiTag } : {}),
  }));
  return [checkSchemaGuard({ targetApiTag, liveSchema, recorded, stack: options.snapshots.stack })];
}
