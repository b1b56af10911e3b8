import { latestRevision, previousGoodRevision, readHelmHistory } from "../kube";
import { ApiLogsSource, checkApiLogs } from "./api-logs";
import { checkAuthSetup } from "./auth-setup";
import { allPassed, CheckResult, skip } from "../check";
import { checkDeploymentLogs, deploymentLogsCheckName } from "./deployment-logs";
import { endpointUrl, RetryPolicy } from "../http/fetch";
import { checkLicense } from "./license";
import { waitFor200 } from "./ready";
import { wayBack } from "./way-back";
import { decideAfterFailure, FailureDecision, ServerSchemas } from "./after-failure";
import { helmRollback } from "../helm/rollback";

/** Alexandria EE: /ready, /auth/setup, /license. */
export interface AlexandriaChecks {
  readonly kind: "alexandria";
  readonly expectTier: string;
  readonly firstInstall: boolean;
  readonly licenseWarnDays: number;
  readonly maxSeats?: number;
}

/** em-runtime: one health endpoint (e.g. /api/governance/health). */
export interface HealthEndpointCheck {
  readonly kind: "health";
  readonly healthPath: string;
}

/** Which logs verification reads for errors; the application's profile decides. */
export type VerifyLogs =
  /** Alexandria EE: the api container of the release's pods, for startup errors. */
  | { readonly kind: "api-container" }
  /** em-runtime: each component's Deployment (`<release>-<component>`), for migration errors. */
  | { readonly kind: "deployments"; readonly components: readonly string[] }
  /** An application whose profile names no log source: reported as skipped, saying so. */
  | { readonly kind: "none" };

export interface VerifyOptions {
  readonly baseUrl: string;
  readonly app: AlexandriaChecks | HealthEndpointCheck;
  /** Bound of the ready/health check, retries included. */
  readonly readyTimeoutMs: number;
  /** Deadline of each HTTP request. */
  readonly requestTimeoutMs: number;
  /** The release in the cluster: where the logs are read. The log checks are skipped without it. */
  readonly cluster?: ApiLogsSource;
  /** Default: the api container's (Alexandria EE). */
  readonly logs?: VerifyLogs;
  readonly env: NodeJS.ProcessEnv;
  /** What a failed verification does next (decided by the schema); absent: it only reports. */
  readonly onFailure?: OnFailure;
}

export interface OnFailure {
  /** Roll the release back on its own when the schema did not move (config autoRollback). */
  readonly autoRollback: boolean;
  /** The revision that served before the up, recorded by preflight. */
  readonly servedBefore?: number;
  /** The schema version recorded in the pre-upgrade snapshot. */
  readonly preUpgradeSchema?: string;
  /** Reads the schema version now; undefined when no query is configured. */
  readonly readLiveSchema?: () => Promise<string | undefined>;
  /**
   * Server scope (em-runtime): compares every database's Alembic version with the pre-upgrade server
   * snapshot's, instead of preUpgradeSchema and readLiveSchema.
   */
  readonly readServerSchemas?: () => Promise<ServerSchemas>;
  /** Seconds Helm waits for the rolled-back revision's rollout. */
  readonly helmTimeoutSeconds: number;
  /** For the way back when the schema moved: the stack and the pre-upgrade snapshot to restore. */
  readonly stack?: string;
  readonly preUpgradeSnapshot?: string;
  /** The pre-upgrade server snapshot, restored with `runbook restore` when a database's schema moved. */
  readonly preUpgradeServerSnapshot?: string;
}

/** What happened after the failed checks. */
export interface AfterFailureReport {
  readonly decision: FailureDecision;
  /** The revision the release was rolled back to, when it was. */
  readonly rolledBackTo?: number;
  /** The checks run again against the rolled-back release. */
  readonly reverify?: { readonly ok: boolean; readonly checks: CheckResult[] };
  /** Why the rollback itself failed. */
  readonly rollbackError?: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly checks: CheckResult[];
  /** Present when a check failed: the commands that lead back to the previous release. */
  readonly wayBack?: string[];
  readonly afterFailure?: AfterFailureReport;
}

/**
 * Runs every post-release check (none stops the others) and reports them all. On a failure, decides by the
 * schema (onFailure): rolls the release back to the revision that served before and verifies that, or
 * leaves it and names the rollback with the snapshot restored.
 */
export async function runVerification(options: VerifyOptions): Promise<VerifyReport> {
  const checks = await runChecks(options);
  const ok = allPassed(checks);
  if (ok) return { ok, checks };
  const afterFailure = options.onFailure === undefined ? undefined : await handleFailure(options, options.onFailure);
  const { cluster } = options;
  const previousRevision = options.onFailure?.servedBefore ?? (await rollbackRevision(options));
  const moved = afterFailure?.decision.action === "hold" && afterFailure.decision.schemaMoved;
  const restoreCommand = moved ? restoreSteps(options.onFailure, afterFailure.decision.reason) : [];
  return {
    ok,
    checks,
    ...(afterFailure ? { afterFailure } : {}),
    wayBack: [
      ...restoreCommand,
      ...wayBack({
        release: cluster?.release,
        namespace: cluster?.target.namespace,
        context: cluster?.target.context,
        previousRevision,
      }),
    ],
  };
}

/**
 * The way back when a schema moved and the release was kept: a server snapshot is restored whole (every
 * database as it was before the up; the release can then be rolled back), a database snapshot with the rollback.
 */
function restoreSteps(onFailure: OnFailure | undefined, reason: string): string[] {
  const server = onFailure?.preUpgradeServerSnapshot;
  if (server !== undefined) {
    return [
      `runbook restore --snapshot ${server} --yes  (${reason}; puts every database back as the pre-upgrade server ` +
        "snapshot saved it, after which the release can be rolled back as below)",
    ];
  }
  return [
    `runbook rollback --stack ${onFailure?.stack ?? "<stack>"} --to last-good --restore-snapshot ${onFailure?.preUpgradeSnapshot ?? "<the pre-upgrade snapshot>"} --yes  (${reason})`,
  ];
}

async function handleFailure(options: VerifyOptions, onFailure: OnFailure): Promise<AfterFailureReport> {
  let liveSchema: string | undefined;
  try {
    liveSchema = await onFailure.readLiveSchema?.();
  } catch {
    liveSchema = undefined; // unknown: decideAfterFailure holds
  }
  const serverSchemas = await onFailure.readServerSchemas?.();
  const decision = decideAfterFailure({
    servedBefore: onFailure.servedBefore,
    preUpgradeSchema: onFailure.preUpgradeSchema,
    liveSchema,
    ...(serverSchemas === undefined ? {} : { serverSchemas }),
  });
  if (decision.action !== "roll-back" || !onFailure.autoRollback || options.cluster === undefined) {
    return { decision };
  }
  const { release, target } = options.cluster;
  try {
    await helmRollback(
      {
        release,
        namespace: target.namespace,
        ...(target.context === undefined ? {} : { context: target.context }),
        revision: decision.toRevision,
        timeoutSeconds: onFailure.helmTimeoutSeconds,
      },
      options.env,
    );
  } catch (err) {
    return { decision, rollbackError: (err as Error).message };
  }
  // The revision that served before was not a first install, whatever this up was.
  const app = options.app.kind === "alexandria" ? { ...options.app, firstInstall: false } : options.app;
  const again = await runChecks({ ...options, app });
  return { decision, rolledBackTo: decision.toRevision, reverify: { ok: allPassed(again), checks: again } };
}

async function runChecks(options: VerifyOptions): Promise<CheckResult[]> {
  const { app, baseUrl } = options;
  const retry: RetryPolicy = { attempts: 3, timeoutMs: options.requestTimeoutMs, backoffMs: 500 };
  const readyPolicy = { timeoutMs: options.readyTimeoutMs, requestTimeoutMs: options.requestTimeoutMs };
  const checks: CheckResult[] = [];
  if (app.kind === "alexandria") {
    // /ready first: the other endpoints mean something only once the application is ready. They still run
    // when it never became ready, so that the report shows everything that is wrong.
    checks.push(await waitFor200("ready", endpointUrl(baseUrl, "/ready"), readyPolicy));
    checks.push(await checkAuthSetup(baseUrl, app.firstInstall, retry));
    checks.push(
      await checkLicense(
        baseUrl,
        { tier: app.expectTier, maxSeats: app.maxSeats, warnDays: app.licenseWarnDays, now: new Date() },
        retry,
      ),
    );
  } else {
    checks.push(await waitFor200("health", endpointUrl(baseUrl, app.healthPath), readyPolicy));
  }
  checks.push(...(await checkLogs(options)));
  return checks;
}

async function checkLogs(options: VerifyOptions): Promise<CheckResult[]> {
  const logs = options.logs ?? { kind: "api-container" };
  if (logs.kind === "api-container") return [await checkApiLogs(options.cluster, options.env)];
  if (logs.kind === "none" || logs.components.length === 0) {
    return [skip("logs", "the application's profile names no log source: no logs were read")];
  }
  const cluster = options.cluster;
  if (cluster === undefined) {
    return logs.components.map((c) =>
      skip(deploymentLogsCheckName(c), `no --namespace/--release given, so the ${c} logs were not read`),
    );
  }
  return Promise.all(
    logs.components.map((component) =>
      checkDeploymentLogs(
        { target: cluster.target, release: cluster.release, component, lines: cluster.lines },
        options.env,
      ),
    ),
  );
}

/** The revision before the newest one that was ever deployed; undefined when the cluster cannot say. */
async function rollbackRevision(options: VerifyOptions): Promise<number | undefined> {
  if (options.cluster === undefined) return undefined;
  try {
    const history = await readHelmHistory(options.cluster.release, options.cluster.target, options.env);
    const latest = latestRevision(history);
    return latest === undefined ? undefined : previousGoodRevision(history, latest.revision)?.revision;
  } catch {
    // Only a hint: the placeholder <revision> is printed instead.
    return undefined;
  }
}
