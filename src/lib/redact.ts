import { parse } from "pg-connection-string";
import { REDIS_URL_ENV } from "./redis/source";
import { STORE_SECRET_ENV_VARS } from "./s3/credentials";

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV_VARS = [
  "PG_DSN",
  "PGPASSWORD",
  "REGISTRY_PASSWORD",
  "REGISTRY_TOKEN",
  "CHART_REGISTRY_PASSWORD",
  REDIS_URL_ENV,
  "REDISCLI_AUTH",
  ...STORE_SECRET_ENV_VARS,
];

/**
 * Removes every secret the process was given (the DSN, the Redis URL, their passwords, registry credentials)
 * from a text that is about to be printed: error messages from libraries and tools can quote them.
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv): string {
  const secrets = new Set<string>();
  for (const name of SECRET_ENV_VARS) {
    const value = env[name];
    if (value) {
      secrets.add(value);
      // A password can be quoted as it would appear inside a URL (basic auth, a DSN built from it).
      secrets.add(encodeURIComponent(value));
    }
  }
  for (const password of [dsnPassword(env.PG_DSN), redisUrlPassword(env[REDIS_URL_ENV])]) {
    if (password === undefined) continue;
    for (const form of password) secrets.add(form);
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out;
}

/** The DSN's password, decoded and percent-encoded. An unparsable DSN is reported elsewhere; it is redacted whole. */
function dsnPassword(dsn: string | undefined): string[] | undefined {
  if (!dsn) return undefined;
  try {
    const password = parse(dsn).password;
    return password ? [password, encodeURIComponent(password)] : undefined;
  } catch {
    return undefined;
  }
}

/** The Redis URL's password as written, decoded and percent-encoded. */
function redisUrlPassword(url: string | undefined): string[] | undefined {
  if (!url) return undefined;
  let written: string;
  try {
    written = new URL(url.trim()).password;
  } catch {
    return undefined;
  }
  if (written === "") return undefined;
  let decoded = written;
  try {
    decoded = decodeURIComponent(written);
  } catch {
    // A malformed escape: the password as written is all there is to redact.
  }
  return [written, decoded, encodeURIComponent(decoded)];
}
