import { latestRevision, previousGoodRevision, readHelmHistory } from "../kube";
import { ApiLogsSource, checkApiLogs } from "./api-logs";
import { checkAuthSetup } from "./auth-setup";
import { allPassed, CheckResult } from "../check";
import { endpointUrl, RetryPolicy } from "../http/fetch";
import { checkLicense } from "./license";
import { waitFor200 } from "./ready";
import { wayBack } from "./way-back";

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

export interface VerifyOptions {
  readonly baseUrl: string;
  readonly app: AlexandriaChecks | HealthEndpointCheck;
  /** Bound of the ready/health check, retries included. */
  readonly readyTimeoutMs: number;
  /** Deadline of each HTTP request. */
  readonly requestTimeoutMs: number;
  /** The release in the cluster: where the api logs are read. The api-logs check is skipped without it. */
  readonly cluster?: ApiLogsSource;
  readonly env: NodeJS.ProcessEnv;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly checks: CheckResult[];
  /** Present when a check failed: the commands that lead back to the previous release. */
  readonly wayBack?: string[];
}

/** Runs every post-release check (none stops the others) and reports them all. */
export async function runVerification(options: VerifyOptions): Promise<VerifyReport> {
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
  checks.push(await checkApiLogs(options.cluster, options.env));

  const ok = allPassed(checks);
  if (ok) return { ok, checks };
  const { cluster } = options;
  const previousRevision = await rollbackRevision(options);
  return {
    ok,
    checks,
    wayBack: wayBack({ release: cluster?.release, namespace: cluster?.target.namespace, previousRevision }),
  };
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
