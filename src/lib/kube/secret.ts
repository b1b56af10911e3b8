import { KubectlError, KubeTarget, kubectlJson } from "./kubectl";

interface Secret {
  data?: Record<string, string>;
}

/** A Secret or key that is not there; the message names both and the namespace (never a value). */
export class SecretKeyMissing extends Error {}

/**
 * The base64-decoded value of one key of a Secret (the database DSN). The value is returned to the caller
 * only: it is never logged, and kubectl's stdout never reaches an error message.
 */
export async function readSecretKey(
  name: string,
  key: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  let secret: Secret;
  try {
    secret = await kubectlJson<Secret>(["get", "secret", name], target, env);
  } catch (err) {
    if (err instanceof KubectlError && err.notFound) {
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
