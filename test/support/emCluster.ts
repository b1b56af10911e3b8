/**
 * The release em-runtime in namespace em, as a fake Kubernetes API server serves it (its pods, the other pods
 * of the namespace, Deployments, events, Secrets and Helm records, filtered by the request's selectors like
 * the API server), and the argv naming it: one fixture for the suites of em-runtime's own checks.
 */
import { helmReleaseSecrets, secretWith } from "../fixtures/alexandria-api/cluster-objects";
import { emDeployment, EmPod, emPod } from "../fixtures/alexandria-api/em-runtime-objects";
import { FakeKubeApi, startFakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";

export const EM_NAMESPACE = "em";
export const EM_RELEASE_NAME = "em-runtime";

/** The API paths the runbook reads in namespace em. */
export const EM = {
  secrets: "/api/v1/namespaces/em/secrets",
  secret: (name: string) => `/api/v1/namespaces/em/secrets/${name}`,
  pods: "/api/v1/namespaces/em/pods",
  deployments: "/apis/apps/v1/namespaces/em/deployments",
  events: "/api/v1/namespaces/em/events",
  logOf: (pod: string) => `/api/v1/namespaces/em/pods/${pod}/log`,
};

/** The flags that name the release em-runtime in namespace em. */
export const EM_RELEASE = ["--namespace", EM_NAMESPACE, "--release", EM_RELEASE_NAME];

export interface EmNamespace {
  /** Helm's release records of em-runtime; none: a first install. */
  readonly revisions: { revision: number; status: string }[];
  /** Every pod of the namespace: the release's and the others (databases, Keycloak). */
  readonly pods: readonly EmPod[];
  /** The components with a Deployment `em-runtime-<component>`. */
  readonly deployments?: readonly string[];
  readonly events?: readonly unknown[];
  /** Secrets by name, their keys' values in clear. */
  readonly secrets?: Readonly<Record<string, Record<string, string>>>;
}

export function startEmCluster(ns: EmNamespace, contexts?: readonly string[]): Promise<FakeKubeApi> {
  return startFakeKubeApi({}, contexts).then((kube) => {
    kube.serveList(
      EM.secrets,
      "SecretList",
      (helmReleaseSecrets(EM_RELEASE_NAME, ns.revisions) as { items: unknown[] }).items,
    );
    kube.serveList(EM.pods, "PodList", ns.pods.map(emPod));
    kube.serveList(
      EM.deployments,
      "DeploymentList",
      (ns.deployments ?? []).map((c) => emDeployment(EM_RELEASE_NAME, c)),
    );
    kube.serveList(EM.events, "EventList", ns.events ?? []);
    for (const [name, data] of Object.entries(ns.secrets ?? {})) kube.answer(EM.secret(name), secretWith(name, data));
    return kube;
  });
}
