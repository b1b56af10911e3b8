import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { RunbookConfig } from "../src/lib/config/schema";
import {
  ChartRegistryCredentials,
  ChartRegistryLoginRefused,
  isOciChart,
  ociRegistryOf,
  pullOciChart,
} from "../src/lib/helm/chart-registry";
import { redactSecrets } from "../src/lib/redact";

/**
 * Where the program keeps the charts it pulled, relative to the project directory. Relative on purpose: the
 * provider resolves a relative chart path against the project directory, so the Release's `chart` input is
 * the same on every machine and in every checkout (an absolute path would show as a change).
 */
export const PULLED_CHARTS_DIR = path.join(".release-runbook", "charts");

/**
 * The chart registry's credentials in plain, for helm's private login at program time (the password is the
 * secret `chartRegistryPassword`, read as the engine handed it over; it is never logged or exported).
 * Undefined without both keys.
 */
export function chartRegistryCredentials(config: RunbookConfig): ChartRegistryCredentials | undefined {
  const username = config.chartRegistry?.username;
  const password = pulumi.runtime.getConfig(`${config.project}:chartRegistryPassword`) || undefined;
  return username === undefined || password === undefined ? undefined : { username, password };
}

/**
 * Pulls an `oci://` chart that needs credentials at its pinned version, before anything is registered (preview
 * and up alike), and returns the archive's path relative to the project for the Release to install from.
 * The provider cannot pull it itself: its helm.v3.Release ignores `repositoryOpts` credentials for oci://
 * charts (see src/lib/helm/chart-registry.ts). Undefined for every other chart, which the provider pulls.
 * A refused login fails the program naming the registry and the keys to set.
 */
export async function pullReleaseChart(
  config: RunbookConfig,
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const chart = config.chart;
  const credentials = chartRegistryCredentials(config);
  if (chart.kind === "local" || !isOciChart(chart.chart) || credentials === undefined) return undefined;
  const relativeDir = path.join(PULLED_CHARTS_DIR, ...pathSegments(chart.chart));
  try {
    const archive = await pullOciChart(
      { chart: chart.chart, version: chart.version, credentials, destination: path.join(projectDir, relativeDir) },
      env,
    );
    pulumi.log.info(`chart ${chart.chart} ${chart.version} pulled as ${credentials.username}`);
    return path.join(relativeDir, path.basename(archive));
  } catch (err) {
    const reason = redactSecrets((err as Error).message, { ...env, CHART_REGISTRY_PASSWORD: credentials.password });
    if (err instanceof ChartRegistryLoginRefused) {
      throw new Error(
        `${config.project}:chartRegistryPassword: ${reason}. Set the credentials of ${ociRegistryOf(chart.chart)}: ` +
          "`pulumi config set chartRegistryUsername USER` and `pulumi config set --secret chartRegistryPassword PASSWORD` " +
          "(GHCR: a token with read:packages; Artifact Registry: oauth2accesstoken and an access token)",
      );
    }
    throw new Error(`${config.project}:chart: ${reason} (check chart and chartVersion)`);
  }
}

/** `oci://host:port/a/b/name` → directory names [host_port, a, b], each safe as a path segment. */
function pathSegments(chart: string): string[] {
  const [registry, ...rest] = chart.slice("oci://".length).split("/");
  return [registry, ...rest.slice(0, -1)].map((s) => (/^\.*$/.test(s) ? "_" : s.replace(/[^A-Za-z0-9._-]/g, "_")));
}
