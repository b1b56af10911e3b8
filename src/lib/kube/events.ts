import { kubeClient } from "./client";
import type { KubeTarget } from "./target";

/** A core/v1 Event as the API server returns it (the fields `kubectl get events` prints). */
interface EventObject {
  involvedObject?: { kind?: string; name?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  metadata?: { creationTimestamp?: string };
}

/** One event of a pod: `kubectl get events --field-selector involvedObject.name=POD`. */
export interface PodEvent {
  readonly pod: string;
  /** Normal or Warning. */
  readonly type: string;
  /** BackOff, Failed, Unhealthy, FailedScheduling… */
  readonly reason: string;
  /** The kubelet's or scheduler's words; can quote an image or a probe's answer. */
  readonly message: string;
  readonly count: number;
  /** When it was last seen (ISO 8601); undefined when the API server recorded no time. */
  readonly lastSeen?: string;
}

/**
 * The events of the namespace's pods named in `pods`, newest first. One request for the namespace's pod
 * events (`involvedObject.kind=Pod`), filtered here: a field selector cannot name several pods.
 */
export async function readPodEvents(
  pods: ReadonlySet<string>,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<PodEvent[]> {
  const client = await kubeClient(target, env);
  const list = await client.getJson<{ items?: EventObject[] }>({
    what: "listing the events of pods",
    path: `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/events`,
    query: { fieldSelector: "involvedObject.kind=Pod" },
  });
  const events: PodEvent[] = [];
  for (const item of list.items ?? []) {
    const pod = item.involvedObject?.name;
    if (pod === undefined || !pods.has(pod)) continue;
    const lastSeen = lastSeenOf(item);
    events.push({
      pod,
      type: item.type ?? "Normal",
      reason: item.reason ?? "",
      message: (item.message ?? "").trim(),
      count: item.series?.count ?? item.count ?? 1,
      ...(lastSeen === undefined ? {} : { lastSeen }),
    });
  }
  return events.sort((a, b) => (b.lastSeen ?? "").localeCompare(a.lastSeen ?? ""));
}

/** events.k8s.io-era events carry eventTime/series; older ones lastTimestamp. */
function lastSeenOf(item: EventObject): string | undefined {
  const text =
    item.series?.lastObservedTime ??
    item.lastTimestamp ??
    item.eventTime ??
    item.firstTimestamp ??
    item.metadata?.creationTimestamp;
  if (text === undefined || text === null) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
