/**
 * The readers of the chart and its values files: Chart.yaml's version, the layered values files (base →
 * tier → site) and the image repositories they name. The only part of config validation that reads files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import type { Profile } from "../profiles";
import type { ParsedKeys } from "./keys";
import type { Reader } from "./reader";
import type { ChartSource, Tier, ValidationContext } from "./schema";

export function resolveFrom(projectDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(projectDir, p);
}

function readYamlFile(file: string): unknown {
  return YAML.parse(fs.readFileSync(file, "utf8"));
}

/** `image.<component>.repository` from the layered values files, later files winning. */
export function repositoriesFromValues(
  files: readonly string[],
  components: readonly string[],
): Record<string, string> {
  const found: Record<string, string> = {};
  for (const file of files) {
    const doc = readYamlFile(file) as { image?: Record<string, { repository?: unknown }> } | null;
    for (const component of components) {
      const repository = doc?.image?.[component]?.repository;
      if (typeof repository === "string" && repository !== "") found[component] = repository;
    }
  }
  return found;
}

export function validateChart(r: Reader, keys: ParsedKeys, ctx: ValidationContext): ChartSource | undefined {
  const { chart, chartRepository: repository, chartVersion: version } = keys;
  if (chart === undefined) return undefined;
  const isRemote = chart.startsWith("oci://") || repository !== undefined;
  if (isRemote) {
    if (version === undefined) {
      r.problem(
        "chartVersion",
        `is required for the remote chart '${chart}'; pin it, e.g. \`pulumi config set chartVersion 1.4.2\``,
      );
      return undefined;
    }
    if (repository !== undefined && !/^(https?|oci):\/\//.test(repository)) {
      r.problem("chartRepository", `'${repository}' must be an https:// or oci:// URL`);
    }
    return { kind: "repository", chart, repository, version };
  }
  const chartDir = resolveFrom(ctx.projectDir, chart);
  const chartYaml = path.join(chartDir, "Chart.yaml");
  if (!fs.existsSync(chartYaml)) {
    r.problem(
      "chart",
      `'${chart}' is neither an oci:// URL nor a chart directory (no Chart.yaml at ${chartYaml}); ` +
        `point it at the chart directory, or set chartRepository and chartVersion for a repository chart`,
    );
    return undefined;
  }
  const chartVersion = String((readYamlFile(chartYaml) as { version?: unknown } | null)?.version ?? "");
  if (chartVersion === "") {
    r.problem("chart", `${chartYaml} has no version field`);
    return undefined;
  }
  if (version !== undefined && version !== chartVersion) {
    r.problem(
      "chartVersion",
      `is ${version} but the chart directory '${chart}' holds version ${chartVersion}; ` +
        `update the chart directory or the config so they agree`,
    );
  }
  return { kind: "local", path: chart, version: chartVersion };
}

export function validateValuesFiles(
  r: Reader,
  keys: ParsedKeys,
  ctx: ValidationContext,
  chart: ChartSource | undefined,
  tier: Tier | undefined,
  profile: Profile,
): string[] {
  const files: string[] = [];
  const localDir = chart?.kind === "local" ? chart.path : undefined;
  const base = keys.baseValuesFile ?? (localDir === undefined ? undefined : path.join(localDir, "values.yaml"));
  const tierFile =
    keys.tierValuesFile ??
    (localDir === undefined || tier === undefined ? undefined : path.join(localDir, `values-${tier}.yaml`));
  if (tierFile === undefined && chart?.kind === "repository" && profile.tier === "required") {
    r.problem("tierValuesFile", `is required with a remote chart; point it at values-${tier ?? "<tier>"}.yaml`);
  }
  const site = keys.siteValuesFile;
  const entries: Array<[string, string | undefined]> = [
    ["baseValuesFile", base],
    ["tierValuesFile", tierFile],
    ["siteValuesFile", site],
  ];
  for (const [key, file] of entries) {
    if (file === undefined) continue;
    const full = resolveFrom(ctx.projectDir, file);
    if (!fs.existsSync(full)) {
      r.problem(key, `the values file '${file}' does not exist (looked at ${full})`);
      continue;
    }
    try {
      readYamlFile(full);
    } catch (err) {
      r.problem(key, `the values file '${file}' is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
      continue;
    }
    files.push(file);
  }
  if (tier !== undefined && tierFile !== undefined && !path.basename(tierFile).includes(tier)) {
    r.warnings.push(
      `${r.key("tierValuesFile")}: '${tierFile}' does not name the tier '${tier}'; check it is the right file`,
    );
  }
  return files;
}
