import { kubeClient } from "./client";
import { listPods, listReleasePods, Pod } from "./pods";
import type { KubeTarget } from "./target";

/** What `kubectl logs` reads of one container. */
export interface PodLogRequest {
  readonly pod: string;
  readonly container: string;
  /** The last lines only (`--tail`). */
  readonly tailLines: number;
  /** The run before the current one (`--previous`): the logs of the crash that made it restart. */
  readonly previous?: boolean;
}

/** The logs read from a set of pods: which `pod/container` were read, and their lines, prefixed by them. */
export interface ContainerLogs {
  /** `pod/container` of every log read; empty when no pod had such a container. */
  readonly sources: readonly string[];
  /** Each line prefixed `[pod/<name>/<container>] ` as `kubectl logs --prefix` does. */
  readonly lines: readonly string[];
}

/** One container's log lines (`kubectl logs POD -c CONTAINER --tail N [--previous]`), blank lines left out. */
export async function readPodLog(
  request: PodLogRequest,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const client = await kubeClient(target, env);
  const text = await client.getText({
    what: `reading the ${request.previous ? "previous " : ""}${request.container} logs of pod ${request.pod}`,
    path: `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(request.pod)}/log`,
    query: {
      container: request.container,
      tailLines: String(request.tailLines),
      ...(request.previous ? { previous: "true" } : {}),
    },
  });
  return splitLines(text);
}

/**
 * The last `lines` lines of the `container` (default `api`) logs of every pod of the release that has such a
 * container (finished, Succeeded pods left out). This is the runbook's
 * `kubectl logs -l app.kubernetes.io/instance=<release> -c api --tail=50 --prefix`.
 */
export async function readContainerLogs(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
  lines: number,
  container = "api",
): Promise<ContainerLogs> {
  // The selector also matches the other components' pods (orchestrator, dashboard), which have no such container.
  const pods = await listReleasePods(release, target, env);
  return readLogsOf(
    livePods(pods).filter((p) => p.spec?.containers?.some((c) => c.name === container)),
    () => [container],
    target,
    env,
    lines,
  );
}

/**
 * The last `lines` lines of every container of the pods `labelSelector` matches (finished pods left out):
 * `kubectl logs -l SELECTOR --all-containers --prefix`, e.g. a Deployment's pods by its selector.
 */
export async function readSelectedPodLogs(
  labelSelector: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
  lines: number,
): Promise<ContainerLogs> {
  const pods = livePods(await listPods(target, env, labelSelector));
  return readLogsOf(pods, (p) => (p.spec?.containers ?? []).map((c) => c.name), target, env, lines);
}

async function readLogsOf(
  pods: readonly Pod[],
  containersOf: (pod: Pod) => string[],
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
  tailLines: number,
): Promise<ContainerLogs> {
  const wanted = pods.flatMap((p) => {
    const pod = p.metadata?.name;
    return pod === undefined ? [] : containersOf(p).map((container) => ({ pod, container }));
  });
  const logs = await Promise.all(wanted.map((w) => readPodLog({ ...w, tailLines }, target, env)));
  return {
    sources: wanted.map((w) => `${w.pod}/${w.container}`),
    lines: logs.flatMap((text, i) => text.map((line) => `[pod/${wanted[i]!.pod}/${wanted[i]!.container}] ${line}`)),
  };
}

/** Pods that run or will run: a Succeeded pod (a finished Job such as a migration hook) says nothing about now. */
function livePods(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => p.status?.phase !== "Succeeded");
}

function splitLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}
