import { CheckResult, fail, pass } from "../check";
import { backoffDelayMs, describeFetchError, fetchWithTimeout, sleep } from "../http/fetch";

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

/** The last attempt is given at least this long (or the request timeout, if shorter) to answer. */
const FINAL_ATTEMPT_WINDOW_MS = 1_000;

/**
 * GET `url` until it answers 200 or the bound runs out: a rollout that just finished may need a while before
 * the new pods pass their own readiness. Used for `/ready` (check `ready`) and em-runtime's health path.
 *
 * When the backoff would leave the next attempt less than its window before the bound, that attempt is
 * brought forward and made the last: an attempt cut to a few milliseconds by the bound proves nothing and
 * would replace the server's real answer (say HTTP 503) with a meaningless timeout in the report.
 */
export async function waitFor200(name: string, url: string, policy: ReadyPolicy): Promise<CheckResult> {
  const started = Date.now();
  const deadline = started + policy.timeoutMs;
  const finalWindowMs = Math.min(policy.requestTimeoutMs, FINAL_ATTEMPT_WINDOW_MS);
  const path = new URL(url).pathname;
  let attempts = 0;
  let last = "no attempt made";
  let lastAnswer: string | undefined;
  let isFinalAttempt = false;
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
      lastAnswer = last;
    } catch (err) {
      last = describeFetchError(err, timeoutMs);
    }
    if (isFinalAttempt) break;
    const left = deadline - Date.now();
    if (left <= 0) break;
    let wait = Math.min(backoffDelayMs(attempts - 1, policy.initialDelayMs ?? 500, policy.maxDelayMs ?? 10_000), left);
    if (left - wait < finalWindowMs) {
      wait = Math.max(0, left - finalWindowMs);
      isFinalAttempt = true;
    }
    await sleep(wait);
  }
  const lastSeen = lastAnswer !== undefined && lastAnswer !== last ? `${last}; last answer: ${lastAnswer}` : last;
  return fail(
    name,
    `GET ${path} did not answer 200 within ${seconds(policy.timeoutMs)} (${attempts} attempt(s); last: ${lastSeen})`,
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
