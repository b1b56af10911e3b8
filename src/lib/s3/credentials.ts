/**
 * Where the S3 client's credentials come from: the runbook's own variables (set by the Pulumi program from the
 * stack's secrets), else the AWS SDK's usual ones. They travel in the environment only, never on argv.
 */
export const STORE_ACCESS_KEY_ENV = "RUNBOOK_STORE_ACCESS_KEY_ID";
export const STORE_SECRET_KEY_ENV = "RUNBOOK_STORE_SECRET_ACCESS_KEY";

/** Variables whose values are secrets (redact.ts removes them from anything printed). */
export const STORE_SECRET_ENV_VARS = [STORE_SECRET_KEY_ENV, "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;

/** Every variable a child process that talks to the store needs (child-env.ts passes only these on). */
export const STORE_ENV_VARS = [
  STORE_ACCESS_KEY_ENV,
  STORE_SECRET_KEY_ENV,
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
] as const;

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The key pair from `env`: RUNBOOK_STORE_ACCESS_KEY_ID + RUNBOOK_STORE_SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID +
 * AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN). Undefined leaves the SDK's own chain (profiles, instance roles).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): StaticCredentials | undefined {
  const own = { id: env[STORE_ACCESS_KEY_ENV], secret: env[STORE_SECRET_KEY_ENV] };
  if (own.id && own.secret) return { accessKeyId: own.id, secretAccessKey: own.secret };
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return undefined;
}
