/**
 * What the release runs now, from Helm's own record of its newest revision: the rendered objects and the
 * hooks, which Helm stores apart from them.
 */
import { readLatestReleaseRecord } from "../kube";
import type { KubeTarget } from "../kube";
import { ManifestObject, parseManifest } from "./manifest-objects";

export interface LiveRelease {
  readonly revision: number;
  /** deployed, failed, pending-upgrade… as Helm records it. */
  readonly status: string;
  /** The chart it runs, `name-version`. */
  readonly chart: string;
  /** Objects and hooks. */
  readonly objects: readonly ManifestObject[];
}

/** The newest revision of `release`; undefined when it was never installed (or was uninstalled). */
export async function readLiveRelease(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<LiveRelease | undefined> {
  const record = await readLatestReleaseRecord(release, target, env);
  if (record === undefined) return undefined;
  const what = `revision ${record.version} of ${release}`;
  const objects = [
    ...parseManifest(record.manifest, target.namespace, `the manifest of ${what}`),
    ...(record.hooks ?? []).flatMap((hook) =>
      parseManifest(hook.manifest, target.namespace, `hook ${hook.path || hook.name} of ${what}`),
    ),
  ];
  return {
    revision: record.version,
    status: record.info.status,
    chart: `${record.chart.metadata.name}-${record.chart.metadata.version}`,
    objects,
  };
}
