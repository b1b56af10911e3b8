import { readSecretKey } from "../lib/kube";
import { UsageError } from "../lib/errors";

/** `namespace/secret/key` of the Kubernetes Secret holding the DSN, for commands that need PG_DSN. */
export const DSN_SECRET_ENV = "RUNBOOK_DSN_SECRET";
/** kubeconfig context used to read RUNBOOK_DSN_SECRET. */
export const KUBE_CONTEXT_ENV = "RUNBOOK_KUBE_CONTEXT";

/**
 * The environment a command runs with: when PG_DSN is unset and RUNBOOK_DSN_SECRET names a Secret, the
 * DSN is read from the cluster into PG_DSN of a copy of the environment. The DSN thereby travels only in
 * environments (the CLI's and pg_dump's), never in argv or output, whoever supplied it.
 */
export async function withDsnFromSecret(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const ref = env[DSN_SECRET_ENV];
  if ((env.PG_DSN !== undefined && env.PG_DSN !== "") || ref === undefined || ref === "") return env;
  const parts = ref.split("/");
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    throw new UsageError(`${DSN_SECRET_ENV}='${ref}' is not NAMESPACE/SECRET/KEY, e.g. alexandria/alexandria-db/dsn`);
  }
  const [namespace, name, key] = parts;
  const context = env[KUBE_CONTEXT_ENV];
  const dsn = await readSecretKey(name, key, { namespace, ...(context ? { context } : {}) }, env);
  return { ...env, PG_DSN: dsn.trim() };
}
