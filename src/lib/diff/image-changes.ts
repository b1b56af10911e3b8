/**
 * The container images an upgrade changes: what an operator checks first in a diff, and what the registry
 * must hold before the rollout can succeed.
 */
import type { ManifestObject, ObjectKey } from "./manifest-objects";

export interface ImageChange {
  /** The object whose pod template holds the container. */
  readonly object: ObjectKey;
  /** The container's name; init containers are named `init:<name>`. */
  readonly container: string;
  /** The live image; absent when the container (or its object) is new. */
  readonly from?: string;
  /** The target image; absent when the container (or its object) goes away. */
  readonly to?: string;
}

type PodSpec = { containers?: unknown; initContainers?: unknown };

/** Where each workload kind keeps its pod spec. */
function podSpecOf(object: ManifestObject): PodSpec | undefined {
  const spec = object.body.spec as Record<string, any> | undefined;
  switch (object.key.kind) {
    case "Pod":
      return spec;
    case "CronJob":
      return spec?.jobTemplate?.spec?.template?.spec;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "ReplicationController":
    case "Job":
      return spec?.template?.spec;
    default:
      return undefined;
  }
}

/** Container name → image, init containers as `init:<name>`. */
export function containerImages(object: ManifestObject | undefined): Map<string, string> {
  const images = new Map<string, string>();
  const podSpec = object === undefined ? undefined : podSpecOf(object);
  if (podSpec === undefined) return images;
  const add = (list: unknown, prefix: string) => {
    if (!Array.isArray(list)) return;
    for (const container of list as { name?: unknown; image?: unknown }[]) {
      if (typeof container?.name === "string" && typeof container.image === "string") {
        images.set(`${prefix}${container.name}`, container.image);
      }
    }
  };
  add(podSpec.initContainers, "init:");
  add(podSpec.containers, "");
  return images;
}

/** Every container of the object whose image differs between the live and the target side. */
export function imageChangesOf(live: ManifestObject | undefined, target: ManifestObject | undefined): ImageChange[] {
  const key = (target ?? live)?.key;
  if (key === undefined) return [];
  const before = containerImages(live);
  const after = containerImages(target);
  const changes: ImageChange[] = [];
  for (const container of new Set([...before.keys(), ...after.keys()])) {
    const from = before.get(container);
    const to = after.get(container);
    if (from === to) continue;
    changes.push({
      object: key,
      container,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    });
  }
  return changes;
}
