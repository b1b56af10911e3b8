import { kubeClient } from "./client";
import { listReleasePods } from "./pods";
import type { KubeTarget } from "./target";

/**
 * The last `lines` lines of the `container` (default `api`) logs of every pod of the release that has such a
 * container (finished, Succeeded pods left out), each line prefixed `[pod/<name>/<container>] ` as
 * `kubectl logs --prefix` does. This is the runbook's
 * `kubectl logs -l app.kubernetes.io/instance=<release> -c api --tail=50`.
 */
export async function readContainerLogs(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
  lines: number,
  container = "api",
): Promise<string[]> {
  // The selector also matches the other components' pods (orchestrator, dashboard), which have no such container.
  const pods = await listReleasePods(release, target, env);
  const names = pods
    .filter((p) => p.status?.phase !== "Succeeded" && p.spec?.containers?.some((c) => c.name === container))
    .map((p) => p.metadata?.name)
    .filter((n): n is string => n !== undefined);
  const client = await kubeClient(target, env);
  const logs = await Promise.all(
    names.map((name) =>
      client.getText({
        what: `reading the ${container} logs of pod ${name}`,
        path: `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(name)}/log`,
        query: { container, tailLines: String(lines) },
      }),
    ),
  );
  return logs.flatMap((text, i) => splitLines(text).map((line) => `[pod/${names[i]}/${container}] ${line}`));
}

function splitLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}
