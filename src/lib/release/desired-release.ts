/** What the stack's config asks the release to be: its inputs, their digest, its Helm description. */
import type { RunbookConfig } from "../config/schema";
import type { DesiredRelease } from "./convergence";
import { ReleaseInputs, releaseDescription, releaseInputsDigest } from "./release-inputs";

export interface DesiredReleaseFacts extends DesiredRelease {
  /** The digest of every release input (see releaseInputsDigest). */
  readonly digest: string;
}

export function releaseInputsOf(config: RunbookConfig): ReleaseInputs {
  const chart = config.chart;
  return {
    chart:
      chart.kind === "local"
        ? { name: chart.path, version: chart.version }
        : { name: chart.chart, version: chart.version, ...(chart.repository ? { repository: chart.repository } : {}) },
    tier: config.tier,
    valuesFiles: config.valuesFiles,
    siteValues: config.siteValues,
    imageTags: config.imageTags,
    imageRepositories: config.imageRepositories,
  };
}

export function desiredRelease(config: RunbookConfig, projectDir: string): DesiredReleaseFacts {
  const inputs = releaseInputsOf(config);
  const digest = releaseInputsDigest(inputs, projectDir);
  return {
    digest,
    description: releaseDescription(inputs, digest),
    chartVersion: config.chart.version,
    imageTags: config.imageTags,
  };
}
