/**
 * Renders the target chart the way the Pulumi Release installs it: `helm template` with the values files in
 * order, then the inline values, hooks and CRDs included. Only argv arrays and an allowlisted environment
 * reach helm; the inline values (which may hold secrets) go through a private temporary file, never argv.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { childEnvironment, NETWORK_ENV_VARS } from "../child-env";
import type { ChartSource } from "../config/schema";
import { OperationFailed, UsageError } from "../errors";
import { redactSecrets } from "../redact";
import { ChartRegistryCredentials, isOciChart, withChartRegistryLogin } from "../helm/chart-registry";

export interface TemplateRequest {
  readonly release: string;
  readonly namespace: string;
  readonly chart: ChartSource;
  /** Values files merged in order, later winning (base → tier → site). */
  readonly valuesFiles: readonly string[];
  /** Inline values merged over the files, as the Release's `values`. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Render as an upgrade (`.Release.IsUpgrade`) rather than a first install. */
  readonly isUpgrade: boolean;
  /**
   * Credentials of an `oci://` chart's registry: helm logs in to a private temporary registry config for this
   * one render (never argv). Default: helm's own login (HELM_REGISTRY_CONFIG, DOCKER_CONFIG).
   */
  readonly registryCredentials?: ChartRegistryCredentials;
}

/**
 * What helm reads besides the basics: its own settings (HELM_REGISTRY_CONFIG, HELM_REPOSITORY_CONFIG,
 * HELM_CACHE_HOME… where `helm registry login` and `helm repo add` keep chart credentials), the XDG
 * directories it defaults them to, Docker's credential store for OCI charts, TLS trust and proxies.
 */
const HELM_NEEDS = {
  inherit: ["DOCKER_CONFIG", ...NETWORK_ENV_VARS],
  inheritPrefixes: ["HELM_", "XDG_"],
} as const;

const STDERR_KEEP_BYTES = 8 * 1024;

/**
 * The argv of `helm template`; `inlineValuesFile` holds the inline values, `registryArgs` point helm at an
 * oci:// chart's registry login (`--registry-config FILE`, `--plain-http` on loopback).
 */
export function helmTemplateArgs(
  request: TemplateRequest,
  inlineValuesFile: string,
  registryArgs: readonly string[] = [],
): string[] {
  const chart = request.chart;
  return [
    "template",
    request.release,
    chart.kind === "local" ? chart.path : chart.chart,
    "--namespace",
    request.namespace,
    "--version",
    chart.version,
    ...(chart.kind === "repository" && chart.repository !== undefined ? ["--repo", chart.repository] : []),
    ...request.valuesFiles.flatMap((file) => ["--values", file]),
    "--values",
    inlineValuesFile,
    "--include-crds",
    ...(request.isUpgrade ? ["--is-upgrade"] : []),
    ...registryArgs,
  ];
}

/** The rendered YAML stream (objects and hooks). */
export async function renderChart(request: TemplateRequest, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-diff-"));
  try {
    const inlineValuesFile = path.join(dir, "inline-values.yaml");
    fs.writeFileSync(inlineValuesFile, YAML.stringify(request.values), { mode: 0o600 });
    const chart = request.chart;
    if (chart.kind === "local" || !isOciChart(chart.chart)) {
      return await runHelm(helmTemplateArgs(request, inlineValuesFile), env, request);
    }
    const redactEnv = { ...env, CHART_REGISTRY_PASSWORD: request.registryCredentials?.password };
    return await withChartRegistryLogin(chart.chart, request.registryCredentials, env, (registryArgs) =>
      runHelm(helmTemplateArgs(request, inlineValuesFile, registryArgs), redactEnv, request, env),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** helm ignores --version for a chart directory; a different version there would diff another chart. */
export function checkLocalChartVersion(chart: ChartSource): void {
  if (chart.kind !== "local") return;
  const chartYaml = path.join(chart.path, "Chart.yaml");
  let version: unknown;
  try {
    version = (YAML.parse(fs.readFileSync(chartYaml, "utf8")) as { version?: unknown } | null)?.version;
  } catch (err) {
    throw new UsageError(`cannot read the chart's ${chartYaml}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (String(version ?? "") !== chart.version) {
    throw new UsageError(
      `the chart directory ${chart.path} holds version ${String(version ?? "(none)")}, not ${chart.version}: ` +
        `give the version it holds, or the directory of ${chart.version}`,
    );
  }
}

/** `redactEnv`: the secrets taken out of helm's messages; `childEnv`: what helm's environment is made from. */
function runHelm(
  args: string[],
  redactEnv: NodeJS.ProcessEnv,
  request: TemplateRequest,
  childEnv: NodeJS.ProcessEnv = redactEnv,
): Promise<string> {
  const chartName = request.chart.kind === "local" ? request.chart.path : request.chart.chart;
  const env = redactEnv;
  return new Promise<string>((resolve, reject) => {
    const child = spawn("helm", args, {
      env: childEnvironment(childEnv, HELM_NEEDS),
      stdio: ["ignore", "pipe", "pipe"],
      shell: false,
    });
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP_BYTES);
    });
    child.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "ENOENT"
          ? new OperationFailed(
              "helm is not on PATH: the rendered diff needs helm v3 (the version the Release uses); install it or put its directory on PATH",
            )
          : new OperationFailed(`cannot run helm: ${err.message}`),
      );
    });
    child.once("close", (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(stdout).toString("utf8"));
        return;
      }
      // helm's message names the template or file at fault; a template's `fail` could quote a value, so the
      // runbook's own secrets are taken out of it.
      const reason = redactSecrets(stderr.trim(), env) || (signal === null ? `exit ${code}` : `signal ${signal}`);
      reject(new OperationFailed(`helm template ${request.release} ${chartName} failed: ${reason}`));
    });
  });
}
