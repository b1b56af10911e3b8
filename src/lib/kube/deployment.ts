import { InvalidImageReference, parseImageReference } from "../registry/reference";
import { kubeClient } from "./client";
import { instanceSelector, KubeTarget } from "./target";

interface DeploymentList {
  items?: {
    metadata?: { name?: string };
    spec?: {
      selector?: { matchLabels?: Record<string, string> };
      template?: { spec?: { containers?: { name: string; image?: string }[] } };
    };
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

/** A component's Deployment (`deploy/em-runtime-governance`) and the label selector of its pods. */
export interface ComponentDeployment {
  readonly name: string;
  /** Its spec.selector.matchLabels as `k=v,k=v`: what `kubectl logs deploy/NAME` reads the pods by. */
  readonly podSelector: string;
}

/**
 * The release's Deployment of `component`: named `<release>-<component>`, or `<fullname>-<component>` when the
 * chart's fullname is not the release name (`helm install em em-runtime` names it em-em-runtime-governance).
 * Undefined when the release has none.
 */
export async function findComponentDeployment(
  release: string,
  component: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<ComponentDeployment | undefined> {
  const items = (await listReleaseDeployments(release, target, env)).items ?? [];
  const named = (name: string | undefined) => name === `${release}-${component}`;
  const found =
    items.find((d) => named(d.metadata?.name)) ?? items.find((d) => d.metadata?.name?.endsWith(`-${component}`));
  const name = found?.metadata?.name;
  if (found === undefined || name === undefined) return undefined;
  const labels = Object.entries(found.spec?.selector?.matchLabels ?? {});
  if (labels.length === 0) {
    throw new Error(
      `Deployment ${name} in namespace ${target.namespace} selects its pods by matchExpressions only, which the runbook does not read`,
    );
  }
  return { name, podSelector: labels.map(([k, v]) => `${k}=${v}`).join(",") };
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
