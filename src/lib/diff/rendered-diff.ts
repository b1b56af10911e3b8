/**
 * What Helm will change: the target chart rendered with the target values, compared object by object with
 * the live release (hooks included, Secret values masked), summarised by kind, with the image changes.
 * Read-only: renders with `helm template` and reads Helm's release record; nothing is applied.
 */
import type { ChartSource } from "../config/schema";
import type { ChartRegistryCredentials } from "../helm/chart-registry";
import type { KubeTarget } from "../kube";
import { compareObjects, ObjectDiff } from "./compare";
import { checkLocalChartVersion, renderChart } from "./helm-template";
import type { ImageChange } from "./image-changes";
import { readLiveRelease } from "./live-release";
import { parseManifest } from "./manifest-objects";
import { KindSummary, summariseByKind, summaryLine } from "./summary";

/** The release's target, as the Pulumi Release gets it. */
export interface RenderedDiffInput {
  /** The Helm release name. */
  readonly release: string;
  readonly namespace: string;
  /** kubeconfig context; the current context when absent. KUBECONFIG comes from `env`. */
  readonly context?: string;
  /** The chart; a local path resolves against the current directory. */
  readonly chart: ChartSource;
  /** Values files merged in order, later winning: base → tier → site. */
  readonly valuesFiles: readonly string[];
  /** Inline values merged over the files (site values with the pinned image tags on top). */
  readonly values: Readonly<Record<string, unknown>>;
  /** Credentials of an `oci://` chart's registry (a private login for the render). Default: helm's own login. */
  readonly registryCredentials?: ChartRegistryCredentials;
}

export interface RenderedDiff {
  readonly release: string;
  readonly namespace: string;
  /** The revision compared against; absent on a first install, where every object is added. */
  readonly live?: { readonly revision: number; readonly status: string; readonly chart: string };
  /** The target chart, `name-or-path@version`. */
  readonly target: { readonly chart: string; readonly version: string };
  /** Whether any object is added, changed or removed. */
  readonly changed: boolean;
  /** Every object of either side, sorted by API group, kind, namespace and name. */
  readonly objects: readonly ObjectDiff[];
  readonly byKind: readonly KindSummary[];
  /** "Deployment: 1 changed; ConfigMap: 1 added; Job (hook): 1 changed" or "no changes (N objects unchanged)". */
  readonly summary: string;
  readonly imageChanges: readonly ImageChange[];
}

export async function renderedDiff(input: RenderedDiffInput, env: NodeJS.ProcessEnv): Promise<RenderedDiff> {
  const target: KubeTarget = {
    namespace: input.namespace,
    ...(input.context === undefined ? {} : { context: input.context }),
  };
  // A wrong chart is bad usage, reported before anything is asked of the cluster.
  checkLocalChartVersion(input.chart);
  const live = await readLiveRelease(input.release, target, env);
  const rendered = await renderChart(
    {
      release: input.release,
      namespace: input.namespace,
      chart: input.chart,
      valuesFiles: input.valuesFiles,
      values: input.values,
      isUpgrade: live !== undefined,
      ...(input.registryCredentials === undefined ? {} : { registryCredentials: input.registryCredentials }),
    },
    env,
  );
  const chartRef = input.chart.kind === "local" ? input.chart.path : input.chart.chart;
  const comparison = compareObjects(
    live?.objects ?? [],
    parseManifest(rendered, input.namespace, `the rendered chart ${chartRef}`),
    { live: live === undefined ? "live (not installed)" : `live (revision ${live.revision})`, target: "target" },
  );
  const byKind = summariseByKind(comparison.objects);
  return {
    release: input.release,
    namespace: input.namespace,
    ...(live === undefined ? {} : { live: { revision: live.revision, status: live.status, chart: live.chart } }),
    target: { chart: chartRef, version: input.chart.version },
    changed: comparison.objects.some((o) => o.change !== "unchanged"),
    objects: comparison.objects,
    byKind,
    summary: summaryLine(byKind),
    imageChanges: comparison.imageChanges,
  };
}
