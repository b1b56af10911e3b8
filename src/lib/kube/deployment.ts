import { InvalidImageReference, parseImageReference } from "../registry/reference";
import { kubeClient } from "./client";
import { instanceSelector, KubeTarget } from "./target";

interface DeploymentList {
  items?: {
    metadata?: { name?: string };
    spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
  }[];
}

export interface RunningImage {
  /** The Deployment that runs it. */
  readonly deployment: string;
  /** As written in the pod template, e.g. us-docker.pkg.dev/proj/repo/api:v1.2.3. */
  readonly image: string;
  /** The tag, or the sha256: digest when the image is pinned by digest; undefined for an untagged image. */
  readonly tag?: string;
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
  const client = await kubeClient(target, env);
  const selector = instanceSelector(release);
  const list = await client.getJson<DeploymentList>({
    what: `listing deployments ${selector}`,
    path: `/apis/apps/v1/namespaces/${encodeURIComponent(target.namespace)}/deployments`,
    query: { labelSelector: selector },
  });
  return findContainerImage(list, container);
}

export function findContainerImage(list: DeploymentList, container: string): RunningImage | undefined {
  for (const item of list.items ?? []) {
    const found = item.spec?.template?.spec?.containers?.find((c) => c.name === container);
    if (found?.image === undefined) continue;
    return { deployment: item.metadata?.name ?? "(unnamed)", image: found.image, ...tagOf(found.image) };
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
