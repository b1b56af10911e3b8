import { kubeClient } from "./client";
import { KubeApiError } from "./kube-api-error";
import type { KubeTarget } from "./target";

/** A Secret as the API server returns it (the fields the runbook reads or saves). */
export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  type?: string;
  data?: Record<string, string>;
  immutable?: boolean;
}

/** A Secret or key that is not there; the message names both and the namespace (never a value). */
export class SecretKeyMissing extends Error {}

/** One Secret of the target namespace; a KubeApiError with `notFound` when there is none. */
export async function readSecret(name: string, target: KubeTarget, env: NodeJS.ProcessEnv): Promise<SecretObject> {
  const client = await kubeClient(target, env);
  return client.getJson<SecretObject>({
    what: `reading secret ${name}`,
    path: `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/secrets/${encodeURIComponent(name)}`,
  });
}

/**
 * The base64-decoded value of one key of a Secret (the database DSN). The value is returned to the caller
 * only: it is never logged, and no error message quotes the API server's answer.
 */
export async function readSecretKey(
  name: string,
  key: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  let secret: SecretObject;
  try {
    secret = await readSecret(name, target, env);
  } catch (err) {
    if (err instanceof KubeApiError && err.notFound) {
      throw new SecretKeyMissing(`secret ${name} not found in namespace ${target.namespace}`);
    }
    throw err;
  }
  const encoded = secret.data?.[key];
  if (encoded === undefined) {
    const keys = Object.keys(secret.data ?? {});
    throw new SecretKeyMissing(
      `secret ${name} in namespace ${target.namespace} has no key '${key}' (keys: ${keys.length > 0 ? keys.join(", ") : "none"})`,
    );
  }
  const value = Buffer.from(encoded, "base64").toString("utf8");
  if (value.trim() === "")
    throw new SecretKeyMissing(`key '${key}' of secret ${name} in namespace ${target.namespace} is empty`);
  return value;
}
