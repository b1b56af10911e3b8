import { InvalidImageReference, parseImageReference } from "../registry/reference";
import { kubeClient } from "./client";
import { instanceSelector, KubeTarget } from "./target";

interface DeploymentList {
  items?: {
    metadata?: { name?: string };
    spec?: { replicas?: number; template?: { spec?: { containers?: { name: string; image?: string }[] } } };
  }[];
}

export interface RunningImage {
  /** The Deployment that runs it. */
  readonly deployment: string;
  /** As written in the pod template, e.g. us-docker.pkg.dev/proj/repo/api:v1.2.3. */
  readonly image: string;
  /** The tag, or the sha256: digest when the image is pinned by digest; undefined for an untagged image. */
  readonly tag?: string;
  /** The Deployment's replicas (Kubernetes' default 1 when unset); 0 when scaled down, e.g. by a rollback. */
  readonly replicas: number;
}

/**
 * The image of the container named `container` (default `api`) in the release's Deployments: the version the
 * minor-version gate compares the target against. Undefined when no Deployment has such a container.
 */
export async function runningContainerImage(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
  container = "api",
): Promise<RunningImage | undefined> {
  return findContainerImage(await listReleaseDeployments(release, target, env), container);
}

/** The tag (or sha256: digest) each container of the release's Deployments runs, by container name. */
export async function runningImageTags(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  for (const item of (await listReleaseDeployments(release, target, env)).items ?? []) {
    for (const c of item.spec?.template?.spec?.containers ?? []) {
      const tag = c.image === undefined ? undefined : tagOf(c.image).tag;
      if (tag !== undefined) tags[c.name] = tag;
    }
  }
  return tags;
}

async function listReleaseDeployments(release: string, target: KubeTarget, env: NodeJS.ProcessEnv) {
  const client = await kubeClient(target, env);
  const selector = instanceSelector(release);
  return client.getJson<DeploymentList>({
    what: `listing deployments ${selector}`,
    path: `/apis/apps/v1/namespaces/${encodeURIComponent(target.namespace)}/deployments`,
    query: { labelSelector: selector },
  });
}

export function findContainerImage(list: DeploymentList, container: string): RunningImage | undefined {
  for (const item of list.items ?? []) {
    const found = item.spec?.template?.spec?.containers?.find((c) => c.name === container);
    if (found?.image === undefined) continue;
    return {
      deployment: item.metadata?.name ?? "(unnamed)",
      image: found.image,
      replicas: item.spec?.replicas ?? 1,
      ...tagOf(found.image),
    };
  }
  return undefined;
}

function tagOf(image: string): { tag?: string } {
  try {
    const ref = parseImageReference(image);
    const tag = ref.digest ?? ref.tag;
    return tag === undefined ? {} : { tag };
  } catch (err) {
    if (err instanceof InvalidImageReference) return {};
    throw err;
  }
}
