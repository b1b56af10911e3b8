import { UsageError } from "../errors";

/** The environment variable holding the Redis URL to back up; a URL can carry a password, so never argv. */
export const REDIS_URL_ENV = "RUNBOOK_REDIS_URL";

/** Where redis-cli connects; the password travels to it only as REDISCLI_AUTH in its environment. */
export interface RedisSource {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

/**
 * Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` or `rediss://...` (TLS). The error never quotes the
 * URL: it may hold the password.
 */
export function redisSourceFromUrl(url: string): RedisSource {
  const example = "redis://:PASSWORD@redis.example:6379 (rediss:// for TLS)";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${REDIS_URL_ENV} is not a URL: set it to ${example}`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new UsageError(`${REDIS_URL_ENV} has scheme '${parsed.protocol.replace(/:$/, "")}': use ${example}`);
  }
  if (parsed.hostname === "") throw new UsageError(`${REDIS_URL_ENV} names no host: use ${example}`);
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    ...(username === "" ? {} : { username }),
    ...(password === "" ? {} : { password }),
    tls: parsed.protocol === "rediss:",
  };
}

/** `user@host:port` for reports: never the password. */
export function describeRedisSource(source: RedisSource): string {
  return `${source.username === undefined ? "" : `${source.username}@`}${source.host}:${source.port}${source.tls ? " (TLS)" : ""}`;
}
