import { OperationFailed } from "../errors";
import { KubeApiError, KubeTarget, readSecret, SecretObject } from "../kube";

/** kubectl apply's record of the last applied object holds the whole Secret once more, in clear JSON. */
const DROPPED_ANNOTATIONS = ["kubectl.kubernetes.io/last-applied-configuration"];

/**
 * The named Secrets as one `kind: List` document that `kubectl apply -f FILE` (or `kubectl replace -f`)
 * puts back: server-set fields (uid, resourceVersion, managedFields, timestamps, owners) are dropped, so the
 * file applies to the same or a re-created namespace. A missing Secret fails the backup, naming it.
 */
export async function exportSecrets(
  names: readonly string[],
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const items: SecretObject[] = [];
  for (const name of names) {
    let secret: SecretObject;
    try {
      secret = await readSecret(name, target, env);
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) {
        throw new OperationFailed(
          `secret ${name} not found in namespace ${target.namespace}: it cannot be backed up; correct the list of ` +
            `Secrets to back up (stack config backupSecrets, or --kube-secrets)`,
        );
      }
      throw new OperationFailed(`cannot back up secret ${name}: ${(err as Error).message}`);
    }
    items.push(restorableSecret(secret, name, target.namespace));
  }
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2)}\n`;
}

export function restorableSecret(secret: SecretObject, name: string, namespace: string): SecretObject {
  const metadata = secret.metadata ?? {};
  const annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).filter(([key]) => !DROPPED_ANNOTATIONS.includes(key)),
  );
  return {
    apiVersion: secret.apiVersion ?? "v1",
    kind: "Secret",
    metadata: {
      name: metadata.name ?? name,
      namespace: metadata.namespace ?? namespace,
      ...(metadata.labels === undefined ? {} : { labels: metadata.labels }),
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    },
    ...(secret.type === undefined ? {} : { type: secret.type }),
    ...(secret.immutable === undefined ? {} : { immutable: secret.immutable }),
    data: secret.data ?? {},
  };
}
