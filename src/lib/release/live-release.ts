/**
 * The live release, read the way Helm stores it: the latest revision's record (status, chart version, the
 * description that says who made it) and the images its Deployments run. Read at program time, in preview
 * and up alike, so the guards follow what really serves.
 */
import { KubeTarget, readLatestReleaseRecord, runningImageTags } from "../kube";
import type { LiveRelease } from "./convergence";

/** The latest revision of `release`, or undefined when it was never installed in the namespace. */
export async function readLiveRelease(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<LiveRelease | undefined> {
  const [record, imageTags] = await Promise.all([
    readLatestReleaseRecord(release, target, env),
    runningImageTags(release, target, env),
  ]);
  if (record === undefined) return undefined;
  return {
    revision: record.version,
    status: record.info.status,
    chartVersion: record.chart.metadata.version,
    description: record.info.description,
    imageTags,
  };
}
