import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { CliCommand, CommandResult, EXIT_CHANGES, ParsedValues } from "../command";
import type { ChartSource } from "../../lib/config/schema";
import { formatRenderedDiff, renderedDiff, RenderedDiffInput } from "../../lib/diff";
import { UsageError } from "../../lib/errors";
import { namespaceNameProblem, releaseNameProblem } from "../../lib/kube";
import { optionalString } from "../flags";

const HELP = `usage: runbook diff --release NAME --namespace NS --chart CHART --chart-version VERSION
                   [--values FILE]... [--set-json JSON|FILE] [options]

Shows what Helm will change: renders the target chart with helm template (the values files in the order
given, then the inline values; hooks and CRDs included) and compares it, object by object (API group,
kind, namespace, name), with the newest revision of the live release as Helm recorded it (its manifest
and its hooks). Prints a unified diff of every added, changed or removed object, a summary by kind
("Deployment: 1 changed; ConfigMap: 1 added; Job (hook): 1 changed") and the image changes. The values
of every Secret's data and stringData are masked: "*** (unchanged)", "*** (before)" / "*** (changed)",
"*** (added)", "*** (removed)". A release not installed yet shows every object added. Nothing is applied.

Options:
  --release NAME             the Helm release name, e.g. alexandria-ee
  --namespace NS             the release's namespace
  --context NAME             kubeconfig context (default: the current context; KUBECONFIG is read)
  --chart CHART              a chart directory, an oci:// chart, or a chart name with --chart-repository
  --chart-version VERSION    the target chart version (a chart directory must hold this version)
  --chart-repository URL     the https:// or oci:// repository of a chart named by --chart
  --values FILE              a values file; repeat it, in merge order (base, tier, site: later wins)
  --set-json JSON|FILE       inline values merged over the files: a JSON object, or a JSON or YAML file
                             holding one (use a file for values that are secret: argv is visible in ps)
  --exit-code                exit 3 when there are changes (0 when there are none)
  --json                     print one JSON object: {ok, release, namespace, live?, target, changed,
                             summary, byKind, imageChanges, objects: [{key, hook?, change, diff?}]}

Needs helm (v3) on PATH. Chart credentials come from the environment only, never flags:
  CHART_REGISTRY_USERNAME, CHART_REGISTRY_PASSWORD   an oci:// chart's registry login (both, or neither):
                             helm logs in with --password-stdin to a private temporary registry config
                             for this one render
or else helm's own configuration (helm registry login / helm repo add, found through HOME or
HELM_REGISTRY_CONFIG, HELM_REPOSITORY_CONFIG and the other HELM_* variables) or DOCKER_CONFIG.

Exit codes: 0 the diff was computed (with --exit-code: and there are no changes), 1 it could not be
(helm or the cluster failed), 2 bad usage, 3 with --exit-code: there are changes.`;

export const diffCommand: CliCommand = {
  name: "diff",
  summary: "show what Helm will change: the rendered target against the live release, Secrets masked",
  help: HELP,
  options: {
    release: { type: "string" },
    namespace: { type: "string" },
    context: { type: "string" },
    chart: { type: "string" },
    "chart-version": { type: "string" },
    "chart-repository": { type: "string" },
    values: { type: "string", multiple: true },
    "set-json": { type: "string" },
    "exit-code": { type: "boolean" },
  },
  async run(values, env): Promise<CommandResult> {
    const diff = await renderedDiff(diffInputFrom(values, env), env);
    return {
      ok: true,
      json: { ok: true, ...diff },
      text: formatRenderedDiff(diff),
      ...(values["exit-code"] === true && diff.changed ? { exitCode: EXIT_CHANGES } : {}),
    };
  },
};

function diffInputFrom(values: ParsedValues, env: NodeJS.ProcessEnv): RenderedDiffInput {
  const release = required(values, "release", "the Helm release name, e.g. --release alexandria-ee");
  const releaseProblem = releaseNameProblem(release);
  if (releaseProblem !== undefined) throw new UsageError(`--release '${release}' ${releaseProblem}`);
  const namespace = required(values, "namespace", "the release's namespace, e.g. --namespace alexandria");
  const namespaceProblem = namespaceNameProblem(namespace);
  if (namespaceProblem !== undefined) throw new UsageError(`--namespace '${namespace}' ${namespaceProblem}`);
  const context = optionalString(values, "context");
  return {
    release,
    namespace,
    ...(context === undefined ? {} : { context }),
    chart: chartFrom(values),
    valuesFiles: valuesFilesFrom(values),
    values: inlineValuesFrom(values),
    ...chartRegistryCredentialsFrom(env),
  };
}

/** CHART_REGISTRY_USERNAME and CHART_REGISTRY_PASSWORD, both or neither. */
function chartRegistryCredentialsFrom(env: NodeJS.ProcessEnv): Pick<RenderedDiffInput, "registryCredentials"> {
  const username = env.CHART_REGISTRY_USERNAME || undefined;
  const password = env.CHART_REGISTRY_PASSWORD || undefined;
  if (username === undefined && password === undefined) return {};
  if (username === undefined || password === undefined) {
    throw new UsageError(
      `${username === undefined ? "CHART_REGISTRY_USERNAME" : "CHART_REGISTRY_PASSWORD"} is not set: ` +
        "an oci:// chart's registry login needs both CHART_REGISTRY_USERNAME and CHART_REGISTRY_PASSWORD",
    );
  }
  return { registryCredentials: { username, password } };
}

function chartFrom(values: ParsedValues): ChartSource {
  const chart = required(values, "chart", "a chart directory or an oci:// chart, e.g. --chart ./charts/alexandria-ee");
  const version = required(values, "chart-version", "the target chart version, e.g. --chart-version 1.4.2");
  const repository = optionalString(values, "chart-repository");
  if (repository !== undefined) {
    if (!/^(https?|oci):\/\//.test(repository)) {
      throw new UsageError(`--chart-repository '${repository}' must be an https:// or oci:// URL`);
    }
    return { kind: "repository", chart, repository, version };
  }
  if (chart.startsWith("oci://")) return { kind: "repository", chart, version };
  if (!fs.existsSync(path.join(chart, "Chart.yaml"))) {
    throw new UsageError(
      `--chart '${chart}' is neither an oci:// chart nor a chart directory (no Chart.yaml in it); ` +
        `give the chart directory, or a chart name with --chart-repository`,
    );
  }
  return { kind: "local", path: chart, version };
}

function valuesFilesFrom(values: ParsedValues): string[] {
  const files = (values.values ?? []) as string[];
  for (const file of files) {
    if (file.trim() === "") throw new UsageError("--values must not be empty");
    if (!fs.existsSync(file)) throw new UsageError(`--values ${file}: no such file`);
  }
  return files;
}

/** The inline values: a JSON object given as is, or a file holding one (YAML, which includes JSON). */
function inlineValuesFrom(values: ParsedValues): Record<string, unknown> {
  const given = optionalString(values, "set-json");
  if (given === undefined) return {};
  let parsed: unknown;
  // Parse errors are not quoted: they show a piece of the text, and the values may hold a secret.
  if (given.startsWith("{")) {
    try {
      parsed = JSON.parse(given);
    } catch {
      throw new UsageError("--set-json is not valid JSON: give a JSON object, or the path of a file holding one");
    }
  } else {
    let text: string;
    try {
      text = fs.readFileSync(given, "utf8");
    } catch (err) {
      throw new UsageError(
        `--set-json ${given}: cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"}); give a JSON object or a file`,
      );
    }
    try {
      parsed = YAML.parse(text);
    } catch {
      throw new UsageError(`--set-json ${given}: the file is not valid JSON or YAML`);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('--set-json must be an object of values, e.g. \'{"image":{"api":{"tag":"v1.5.0"}}}\'');
  }
  return parsed as Record<string, unknown>;
}

function required(values: ParsedValues, flag: string, what: string): string {
  const value = optionalString(values, flag);
  if (value === undefined) throw new UsageError(`--${flag} is required: ${what}`);
  return value;
}
