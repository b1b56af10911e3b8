import { readHelmHistory } from "../kube/helm-release";
import type { ReleaseRevisionRecord } from "./history";
import { configValue, PlainConfig } from "./stack-config";

export interface ReleaseRevisions {
  /** Absent when the cluster was not read (no namespace configured, or it failed). */
  readonly revisions?: ReleaseRevisionRecord[];
  /** Why the revisions are missing, when the cluster could not be read. */
  readonly clusterProblem?: string;
}

/**
 * The revisions of the stack's Helm release, read from the cluster its config names. A cluster that cannot
 * be read is reported, not thrown: history and rollback plans are still useful without revisions.
 */
export async function readReleaseRevisions(config: PlainConfig, env: NodeJS.ProcessEnv): Promise<ReleaseRevisions> {
  const namespace = configValue(config, "namespace");
  if (namespace === undefined) return {};
  const release = configValue(config, "releaseName") ?? configValue(config, "application") ?? "alexandria-ee";
  const context = configValue(config, "kubeContext");
  try {
    return { revisions: await readHelmHistory(release, { namespace, ...(context ? { context } : {}) }, env) };
  } catch (err) {
    return { clusterProblem: (err as Error).message };
  }
}
