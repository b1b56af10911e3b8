import { KubeTarget, kubectlJson } from "./kubectl";

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
 * reading those needs no helm binary and gives the same answer as `helm history`.
 */
export async function readHelmHistory(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<HelmRevision[]> {
  const list = await kubectlJson<SecretList>(
    ["get", "secrets", "-l", `owner=helm,name=${release}`, "--field-selector", "type=helm.sh/release.v1"],
    target,
    env,
  );
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
