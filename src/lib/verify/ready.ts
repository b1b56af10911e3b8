import { CheckResult, fail, pass } from "./check";
import { backoffDelayMs, describeFetchError, fetchWithTimeout, sleep } from "./http";

export interface ReadyPolicy {
  /** The whole check gives up after this long (--ready-timeout). */
  readonly timeoutMs: number;
  /** Deadline of each attempt; an attempt never runs past the overall bound. */
  readonly requestTimeoutMs: number;
  /** First backoff step; doubles per attempt up to `maxDelayMs`. Default 500 ms. */
  readonly initialDelayMs?: number;
  /** Default 10 s. */
  readonly maxDelayMs?: number;
}

/**
 * GET `url` until it answers 200 or the bound runs out: a rollout that just finished may need a while before
 * the new pods pass their own readiness. Used for `/ready` (check `ready`) and em-runtime's health path.
 */
export async function waitFor200(name: string, url: string, policy: ReadyPolicy): Promise<CheckResult> {
  const started = Date.now();
  const deadline = started + policy.timeoutMs;
  const path = new URL(url).pathname;
  let attempts = 0;
  let last = "no attempt made";
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    attempts++;
    const timeoutMs = Math.min(policy.requestTimeoutMs, remaining);
    try {
      const res = await fetchWithTimeout(url, { redirect: "manual" }, timeoutMs);
      await res.body?.cancel();
      if (res.status === 200) {
        return pass(name, `GET ${path} answered 200 after ${attempts} attempt(s) in ${seconds(Date.now() - started)}`);
      }
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = describeFetchError(err, timeoutMs);
    }
    const delay = backoffDelayMs(attempts - 1, policy.initialDelayMs ?? 500, policy.maxDelayMs ?? 10_000);
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(delay, left));
  }
  return fail(
    name,
    `GET ${path} did not answer 200 within ${seconds(policy.timeoutMs)} (${attempts} attempt(s); last: ${last})`,
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
