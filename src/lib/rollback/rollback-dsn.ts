import { readSecretKey } from "../kube/secret";
import { configValue, PlainConfig } from "./stack-config";

/** The DSN the stack's snapshots use: PG_DSN, else the stack's secret pgDsn, else its dsnSecret in the cluster. */
export async function stackDsn(config: PlainConfig, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.PG_DSN) return env.PG_DSN;
  const fromConfig = configValue(config, "pgDsn");
  if (fromConfig) return fromConfig;
  const secret = configValue(config, "dsnSecret");
  const namespace = configValue(config, "namespace");
  if (secret === undefined || namespace === undefined) return undefined;
  const [name, key] = secret.split("/");
  const context = configValue(config, "kubeContext");
  return (await readSecretKey(name, key, { namespace, ...(context ? { context } : {}) }, env)).trim();
}
