import { CheckResult, fail, pass, skip } from "../check";
import { endpointUrl, fetchWithRetries, RetriesExhausted, RetryPolicy } from "../http/fetch";

export interface HealthBefore {
  /** The application's public address (config baseUrl). */
  readonly baseUrl: string;
  /** Its health path: /api/governance/health for em-runtime. */
  readonly path: string;
  readonly retry: RetryPolicy;
}

/**
 * The guide's `curl https://$HOSTNAME/api/governance/health` before an upgrade: what serves now is healthy, so
 * that a failure after the upgrade is the upgrade's. Over the base URL, as users reach it (Gateway, DNS, TLS).
 * Skipped on a first install, where nothing serves yet.
 */
export async function checkHealthBefore(
  health: HealthBefore,
  firstInstall: boolean,
  diagnose: string,
): Promise<CheckResult> {
  const name = "health-before";
  const url = endpointUrl(health.baseUrl, health.path);
  const where = `GET ${health.path} at ${new URL(url).origin}`;
  if (firstInstall) return skip(name, `first install: nothing serves ${health.path} yet`);
  let status: number;
  try {
    const res = await fetchWithRetries(url, { redirect: "manual" }, health.retry);
    await res.body?.cancel();
    status = res.status;
  } catch (err) {
    if (!(err instanceof RetriesExhausted)) throw err;
    return fail(
      name,
      `${where} got no answer before the upgrade (${err.message}): check baseUrl, the Gateway and DNS, then the ` +
        `pods (\`${diagnose}\`)`,
    );
  }
  if (status === 200) return pass(name, `${where} answered 200 before the upgrade`);
  return fail(
    name,
    `${where} answered ${status} before the upgrade: the release is not healthy now, and an upgrade on top would ` +
      `hide why; fix it first (\`${diagnose}\` gathers the previous logs, events and init containers)`,
  );
}
