import { kubeClient } from "./client";
import { instanceSelector, KubeTarget } from "./target";

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode?: number; finishedAt?: string };
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerState;
  /** The previous run's end, when the container restarted: what `kubectl logs --previous` shows the logs of. */
  lastState?: ContainerState;
}

/** A container of a pod's spec: its name, image, and where its environment comes from. */
export interface PodContainer {
  name: string;
  image?: string;
  env?: { name: string; valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }[];
  envFrom?: { secretRef?: { name?: string } }[];
}

export interface Pod {
  metadata?: { name?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec?: {
    containers?: PodContainer[];
    initContainers?: PodContainer[];
    volumes?: { name: string; secret?: { secretName?: string } }[];
  };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface PodList {
  items?: Pod[];
}

export interface UnhealthyPod {
  readonly name: string;
  /** Why, in kubectl's words: "CrashLoopBackOff (api)", "not Ready", "phase Pending". */
  readonly reason: string;
}

export interface PodsHealth {
  readonly healthy: boolean;
  /** Pods that count: Succeeded pods (finished Jobs such as migration hooks) are left out. */
  readonly podNames: readonly string[];
  readonly unhealthy: readonly UnhealthyPod[];
}

export async function listReleasePods(release: string, target: KubeTarget, env: NodeJS.ProcessEnv): Promise<Pod[]> {
  return listPods(target, env, instanceSelector(release));
}

/** The pods of the namespace that match `labelSelector` (`kubectl get pods -l ...`); every pod without one. */
export async function listPods(target: KubeTarget, env: NodeJS.ProcessEnv, labelSelector?: string): Promise<Pod[]> {
  const client = await kubeClient(target, env);
  const list = await client.getJson<PodList>({
    what: labelSelector === undefined ? "listing every pod" : `listing pods ${labelSelector}`,
    path: `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods`,
    ...(labelSelector === undefined ? {} : { query: { labelSelector } }),
  });
  return list.items ?? [];
}

/** `kubectl get pods -l SELECTOR` judged: every matching pod Running and Ready, none crash-looping. */
export async function checkPodsHealthyBy(
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
  labelSelector?: string,
): Promise<PodsHealth> {
  return assessPods(await listPods(target, env, labelSelector));
}

/** Are all of the release's pods Running and Ready, none crash-looping? */
export async function checkPodsHealthy(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<PodsHealth> {
  return assessPods(await listReleasePods(release, target, env));
}

export function assessPods(pods: readonly Pod[]): PodsHealth {
  const counted = pods.filter((p) => p.status?.phase !== "Succeeded");
  const unhealthy: UnhealthyPod[] = [];
  for (const pod of counted) {
    const reason = podProblem(pod);
    if (reason !== undefined) unhealthy.push({ name: pod.metadata?.name ?? "(unnamed)", reason });
  }
  return {
    healthy: counted.length > 0 && unhealthy.length === 0,
    podNames: counted.map((p) => p.metadata?.name ?? "(unnamed)"),
    unhealthy,
  };
}

/** What is wrong with one pod, in kubectl's words; undefined when it is Running and Ready. */
export function podProblem(pod: Pod): string | undefined {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const crashing = statuses.filter((c) => c.state?.waiting?.reason === "CrashLoopBackOff");
  if (crashing.length > 0) {
    return `CrashLoopBackOff (${crashing.map((c) => `${c.name}, ${c.restartCount ?? 0} restarts`).join("; ")})`;
  }
  if (pod.metadata?.deletionTimestamp !== undefined) return "terminating";
  const phase = pod.status?.phase ?? "Unknown";
  if (phase !== "Running") {
    const waiting = statuses.map((c) => c.state?.waiting?.reason).find((r) => r !== undefined);
    return `phase ${phase}${waiting === undefined ? "" : ` (${waiting})`}`;
  }
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  if (!ready) {
    const notReady = statuses.filter((c) => c.ready !== true).map((c) => c.name);
    return `not Ready${notReady.length > 0 ? ` (${notReady.join(", ")})` : ""}`;
  }
  return undefined;
}
