import { KubeTarget, Pod, PodContainer, readSecret } from "../kube";

/** Values shorter than this are not masked: "true", "5432" or "en" would blank out half of every log. */
const SHORTEST_MASKED_VALUE = 6;

/** The Secrets the pods' containers take values from: env secretKeyRef, envFrom secretRef, secret volumes. */
export function referencedSecrets(pods: readonly Pod[]): string[] {
  const names = new Set<string>();
  const fromContainer = (c: PodContainer) => {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.add(e.secretRef.name);
  };
  for (const pod of pods) {
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) fromContainer(c);
    for (const v of pod.spec?.volumes ?? []) if (v.secret?.secretName) names.add(v.secret.secretName);
  }
  return [...names].sort();
}

/**
 * The values of `secrets` (decoded, each line of a multi-line value too), so that a log line or an event that
 * quotes one of them is masked before it is printed. A Secret that cannot be read is named in `unread`; the
 * patterns of maskSecrets still apply to what it holds.
 */
export async function readSecretValues(
  secrets: readonly string[],
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<{ values: string[]; unread: string[] }> {
  const values = new Set<string>();
  const unread: string[] = [];
  await Promise.all(
    secrets.map(async (name) => {
      try {
        const secret = await readSecret(name, target, env);
        for (const encoded of Object.values(secret.data ?? {})) {
          const value = Buffer.from(encoded, "base64").toString("utf8");
          for (const part of [value, value.trim(), ...value.split("\n").map((l) => l.trim())]) {
            if (part.length >= SHORTEST_MASKED_VALUE) values.add(part);
          }
        }
      } catch (err) {
        unread.push(`${name}: ${(err as Error).message}`);
      }
    }),
  );
  return { values: [...values].sort((a, b) => b.length - a.length), unread: unread.sort() };
}
