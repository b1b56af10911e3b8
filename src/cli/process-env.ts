import { SECRET_ENV_VARS } from "../lib/redact";

/**
 * The environment the commands run with: a copy of process.env. The secret variables are then removed from
 * process.env itself, so that a child started without an explicit environment (client-node runs a kubeconfig's
 * exec credential plugin with process.env) never sees the DSN, PGPASSWORD, registry or Redis credentials.
 * Children that need a secret get it from the returned copy, by name.
 */
export function takeProcessEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SECRET_ENV_VARS) delete process.env[name];
  return env;
}
