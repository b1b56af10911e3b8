import { parse } from "pg-connection-string";

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV_VARS = ["PG_DSN", "PGPASSWORD", "REGISTRY_PASSWORD", "REGISTRY_TOKEN"];

/**
 * Removes every secret the process was given (the DSN, its password, registry credentials) from a text
 * that is about to be printed: error messages from libraries can quote connection strings.
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv): string {
  const secrets = new Set<string>();
  for (const name of SECRET_ENV_VARS) {
    const value = env[name];
    if (value) secrets.add(value);
  }
  if (env.PG_DSN) {
    try {
      const password = parse(env.PG_DSN).password;
      if (password) {
        secrets.add(password);
        secrets.add(encodeURIComponent(password));
      }
    } catch {
      // An unparsable DSN is reported elsewhere; the whole string is redacted above.
    }
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out;
}
