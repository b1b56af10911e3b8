import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ChartSource, Tier } from "../src/lib/config/schema";
import { namespaceNameProblem, releaseNameProblem } from "../src/lib/kube/names";
import { tagProblem } from "../src/lib/release/image-tags";
import { withNote } from "../src/lib/release/release-inputs";
import { releaseValues } from "../src/lib/release/merge-values";

export { mergeValues, releaseValues } from "../src/lib/release/merge-values";

export interface TieredReleaseArgs {
  /** Namespace of the release. No default. */
  readonly namespace: string;
  /** Helm release name. No default. */
  readonly releaseName: string;
  /** The chart: a local directory, or a repository/OCI chart at a pinned version. No default. */
  readonly chart: ChartSource;
  /**
   * The chart as the program pulled it (an oci:// chart whose registry wants credentials, which the provider
   * cannot pass: see components/chartPull.ts): the archive the Release installs from, relative to the project.
   * The version stays pinned. Default: the provider finds or pulls `chart` itself.
   */
  readonly chartArchive?: string;
  /**
   * Credentials of the chart's registry (config chartRegistryUsername/Password), for an https:// chart
   * repository, where the provider passes them to helm. An oci:// chart's registry ignores them there: it is
   * pulled by the program and given as chartArchive. Default: anonymous.
   */
  readonly chartRegistry?: { readonly username: string; readonly password: pulumi.Input<string> };
  /** The license tier, recorded in the release's description. Default: none (an application without tiers). */
  readonly tier?: Tier;
  /** Values files merged in order, later winning: base → tier → site. No default. */
  readonly valuesFiles: readonly string[];
  /** Inline site values merged over the files. Default: none. */
  readonly siteValues?: Readonly<Record<string, unknown>>;
  /** Image tag per component, written to `image.<component>.tag` over everything else. No default. */
  readonly imageTags: Readonly<Record<string, string>>;
  /** Seconds Helm waits for the rollout before the atomic rollback. Default 600 (the runbook's 10m). */
  readonly timeoutSeconds?: number;
  /** Release revisions Helm keeps; enough to roll back through. Default 10. */
  readonly maxHistory?: number;
  /** Create the namespace on first install. Default false. */
  readonly createNamespace?: boolean;
  /** Adopt a release installed by hand (import `<namespace>/<releaseName>`) instead of installing. Default false. */
  readonly adoptExistingRelease?: boolean;
  /** Kubernetes provider. Default: the default provider (current kubeconfig context). */
  readonly provider?: k8s.Provider;
  /** Refuse to delete or replace the release (`pulumi destroy`, a new releaseName): production. Default false. */
  readonly protect?: boolean;
  /** Leave the release installed when Pulumi deletes the resource. Default false. */
  readonly retainOnDelete?: boolean;
  /**
   * The Helm description of the target (releaseDescription: the target in words and the inputs' digest),
   * how the live release is recognised as this stack's. Default: the tier and the tags, without a digest.
   */
  readonly description?: string;
  /**
   * Added to the description when the live release is not the target, so a drifted release (a hand
   * rollback, a failed or interrupted up) is re-applied even when no input changed. Default: none.
   */
  readonly descriptionNote?: string;
  /** The live release is the target: keep the description recorded at the last up (no update). Default false. */
  readonly liveIsTarget?: boolean;
}

/** The helm.v3.Release inputs for these args. Pure; tested without mocks. */
export function releaseInputs(args: TieredReleaseArgs): k8s.helm.v3.ReleaseArgs {
  const chart = args.chart;
  return {
    name: args.releaseName,
    namespace: args.namespace,
    chart: args.chartArchive ?? (chart.kind === "local" ? chart.path : chart.chart),
    version: chart.version,
    // A pulled archive is a local chart: no repository, and no credentials in the Release's inputs.
    repositoryOpts: args.chartArchive === undefined ? repositoryOptions(args) : undefined,
    valueYamlFiles: args.valuesFiles.map((file) => new pulumi.asset.FileAsset(file)),
    values: releaseValues(args.siteValues ?? {}, args.imageTags),
    atomic: true,
    cleanupOnFail: true,
    // A failing migration Job must fail the rollout (and trip the atomic rollback), not pass it.
    waitForJobs: true,
    timeout: args.timeoutSeconds ?? 600,
    maxHistory: args.maxHistory ?? 10,
    createNamespace: args.createNamespace ?? false,
    description: releaseDescriptionOf(args),
  };
}

/** Where the chart is pulled from and with which credentials; undefined for a chart that needs neither. */
function repositoryOptions(args: TieredReleaseArgs): k8s.types.input.helm.v3.RepositoryOpts | undefined {
  const { chart, chartRegistry } = args;
  if (chart.kind !== "repository") return undefined;
  if (chart.repository === undefined && chartRegistry === undefined) return undefined;
  return {
    ...(chart.repository === undefined ? {} : { repo: chart.repository }),
    ...(chartRegistry === undefined
      ? {}
      : { username: chartRegistry.username, password: pulumi.secret(chartRegistry.password) }),
  };
}

function releaseDescriptionOf(args: TieredReleaseArgs): string {
  const tags = Object.entries(args.imageTags)
    .map(([c, t]) => `${c}=${t}`)
    .join(" ");
  const description =
    args.description ??
    (args.tier === undefined
      ? `release-runbook: chart ${args.chart.version}${tags === "" ? "" : `, ${tags}`}`
      : `release-runbook: tier ${args.tier}, ${tags}`);
  return args.descriptionNote === undefined ? description : withNote(description, args.descriptionNote);
}

/** The Release's resource options: adoption, protection, retention. Pure; tested without mocks. */
export function releaseResourceOptions(args: TieredReleaseArgs): pulumi.CustomResourceOptions {
  return {
    provider: args.provider,
    import: args.adoptExistingRelease ? `${args.namespace}/${args.releaseName}` : undefined,
    protect: args.protect ?? false,
    retainOnDelete: args.retainOnDelete ?? false,
    // While the live release is the target, the note of the up that made it stands: nothing to update.
    ignoreChanges: args.liveIsTarget ? ["description"] : [],
  };
}

/**
 * The application's Helm release with its chart version pinned, values layered base → tier → site, and
 * every component's image tag pinned; atomic, so Helm rolls a failed rollout back to the serving revision.
 */
export class TieredRelease extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly revision: pulumi.Output<number>;
  public readonly status: pulumi.Output<string>;
  public readonly chartVersion: pulumi.Output<string>;

  constructor(name: string, args: TieredReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const releaseProblem = releaseNameProblem(args.releaseName);
    if (releaseProblem !== undefined)
      throw new Error(`TieredRelease ${name}: releaseName '${args.releaseName}' ${releaseProblem}`);
    const namespaceProblem = namespaceNameProblem(args.namespace);
    if (namespaceProblem !== undefined)
      throw new Error(`TieredRelease ${name}: namespace '${args.namespace}' ${namespaceProblem}`);
    for (const [component, tag] of Object.entries(args.imageTags)) {
      const problem = tagProblem(tag, { protectedStack: false });
      if (problem !== undefined) throw new Error(`TieredRelease ${name}: imageTags.${component}: the tag ${problem}`);
    }
    if (args.valuesFiles.length === 0 && args.chart.kind === "local") {
      throw new Error(
        `TieredRelease ${name}: valuesFiles is empty; pass the chart's values.yaml and the tier's values file`,
      );
    }
    super("release-runbook:helm:TieredRelease", name, {}, opts);
    this.release = new k8s.helm.v3.Release(`${name}-release`, releaseInputs(args), {
      ...releaseResourceOptions(args),
      parent: this,
      dependsOn: opts?.dependsOn,
    });
    this.revision = this.release.status.revision;
    this.status = this.release.status.status;
    this.chartVersion = this.release.status.version;
    this.registerOutputs({ revision: this.revision, status: this.status, chartVersion: this.chartVersion });
  }
}
