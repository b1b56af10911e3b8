import { kubeClient } from "./client";
import type { KubeTarget } from "./target";

/**
 * Asks the API server for the objects' metadata only: Helm's release records carry the whole gzipped chart
 * and values per revision (MBs for a long history), and the history needs only their labels and timestamps.
 */
export const METADATA_ONLY_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/** One revision of a Helm release, as Helm's storage Secret labels it. */
export interface HelmRevision {
  readonly revision: number;
  /** deployed, superseded, failed, pending-install, pending-upgrade, pending-rollback, uninstalling… */
  readonly status: string;
  /** When Helm stored the revision (its Secret's creationTimestamp), when the cluster says. */
  readonly createdAt?: Date;
}

interface SecretList {
  items?: { metadata?: { labels?: Record<string, string>; creationTimestamp?: string } }[];
}

/**
 * Every recorded revision of `release`, oldest first; empty means the release was never installed here.
 * Helm (v3, default storage driver) keeps one Secret per revision labelled owner=helm, name, version, status;
 * reading their metadata needs no helm binary and gives the same answer as `helm history`.
 */
export async function readHelmHistory(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<HelmRevision[]> {
  const client = await kubeClient(target, env);
  const list = await client.getJson<SecretList>({
    what: `listing the Helm release records of ${release}`,
    path: `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/secrets`,
    query: { labelSelector: `owner=helm,name=${release}`, fieldSelector: "type=helm.sh/release.v1" },
    accept: METADATA_ONLY_LIST,
  });
  return revisionsFromSecrets(list);
}

export function revisionsFromSecrets(list: SecretList): HelmRevision[] {
  const revisions: HelmRevision[] = [];
  for (const item of list.items ?? []) {
    const labels = item.metadata?.labels ?? {};
    const revision = Number(labels.version);
    if (!Number.isInteger(revision) || revision <= 0) continue;
    const created = item.metadata?.creationTimestamp;
    revisions.push({
      revision,
      status: labels.status ?? "unknown",
      ...(created ? { createdAt: new Date(created) } : {}),
    });
  }
  return revisions.sort((a, b) => a.revision - b.revision);
}

/** The newest revision (what `helm history` lists last). */
export function latestRevision(history: readonly HelmRevision[]): HelmRevision | undefined {
  return history[history.length - 1];
}

/** The revision `helm rollback` should go back to: the newest one before `current` that was ever deployed. */
export function previousGoodRevision(history: readonly HelmRevision[], current: number): HelmRevision | undefined {
  return [...history]
    .reverse()
    .find((r) => r.revision < current && (r.status === "superseded" || r.status === "deployed"));
}

/** Helm refuses to upgrade while a revision is pending ("another operation is in progress"). */
export function isPendingStatus(status: string): boolean {
  return status.startsWith("pending-");
}
