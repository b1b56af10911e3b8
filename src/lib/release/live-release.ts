/**
 * The live release, read the way Helm stores it: the latest revision's record (status, chart version, the
 * description that says who made it) and the images its Deployments run. Read at program time, in preview
 * and up alike, so the guards follow what really serves.
 */
import {
  decodeHelmReleaseRecord,
  helmReleaseSecretName,
  KubeTarget,
  latestRevision,
  readHelmHistory,
  readSecretKey,
  runningImageTags,
} from "../kube";
import type { LiveRelease } from "./convergence";

/** The latest revision of `release`, or undefined when it was never installed in the namespace. */
export async function readLiveRelease(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<LiveRelease | undefined> {
  const latest = latestRevision(await readHelmHistory(release, target, env));
  if (latest === undefined) return undefined;
  const [stored, imageTags] = await Promise.all([
    readSecretKey(helmReleaseSecretName(release, latest.revision), "release", target, env),
    runningImageTags(release, target, env),
  ]);
  const record = decodeHelmReleaseRecord(stored);
  return {
    revision: latest.revision,
    status: record.info.status,
    chartVersion: record.chart.metadata.version,
    description: record.info.description,
    imageTags,
  };
}
