/** Small HTTP helpers shared by the registry client and the post-release checks. */

/** A failed attempt that is worth repeating: the network, a timeout, or a 5xx/429 answer. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** fetch with its own deadline: a server that accepts the connection and never answers cannot stall a check. */
export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * Exponential backoff with jitter: half of each step is fixed, half random, so that callers retrying at once
 * do not hammer a recovering server in lockstep, and no delay collapses to zero.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(step / 2 + random() * (step / 2));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** "connect ECONNREFUSED 127.0.0.1:1" instead of undici's bare "fetch failed"; "no answer within 5s" for aborts. */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === "TimeoutError" || err.name === "AbortError")
      return `no answer within ${Number((timeoutMs / 1000).toFixed(1))}s`;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: string }).code;
      return code !== undefined && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}

export interface RetryPolicy {
  /** Attempts in all, at least 1. */
  readonly attempts: number;
  /** Deadline of each attempt. */
  readonly timeoutMs: number;
  /** First backoff step; doubles per attempt, capped at 8 s. */
  readonly backoffMs: number;
}

/** Every attempt failed at the network level or with a 5xx/429; `message` says how the last one failed. */
export class RetriesExhausted extends Error {}

/**
 * fetch, repeated with backoff on network errors, timeouts and 5xx/429 answers. The last attempt's answer is
 * returned whatever its status; only when no attempt got an answer does it throw RetriesExhausted.
 */
export async function fetchWithRetries(url: string, init: RequestInit, policy: RetryPolicy): Promise<Response> {
  const attempts = Math.max(1, policy.attempts);
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(backoffDelayMs(attempt - 1, policy.backoffMs, 8_000));
    try {
      const res = await fetchWithTimeout(url, init, policy.timeoutMs);
      if (!isRetryableStatus(res.status) || attempt === attempts - 1) return res;
      await res.body?.cancel();
    } catch (err) {
      lastError = err;
      if (attempt === attempts - 1) break;
    }
  }
  throw new RetriesExhausted(`${describeFetchError(lastError, policy.timeoutMs)} (${attempts} attempts)`);
}

/** `path` under `baseUrl`, keeping any path prefix the base has (https://host/alexandria/ + /ready). */
export function endpointUrl(baseUrl: string, path: string): string {
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return new URL(path.replace(/^\/+/, ""), base).toString();
}
