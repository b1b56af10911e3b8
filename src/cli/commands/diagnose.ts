import { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { namespaceNameProblem, releaseNameProblem } from "../../lib/kube";
import {
  DiagnoseOptions,
  DiagnoseReport,
  PodSummary,
  releasePodSelector,
  runDiagnose,
} from "../../lib/diagnose/diagnose";
import { labelSelectorFlag, optionalString } from "../flags";

const DEFAULT_INFRASTRUCTURE_SELECTOR = "app.kubernetes.io/component=database";
/** The guide's `kubectl logs -l app=keycloak`; the chart's standard label when that finds nothing. */
const DEFAULT_KEYCLOAK_SELECTORS = ["app=keycloak", "app.kubernetes.io/name=keycloak"];

const HELP = `usage: runbook diagnose --namespace NS --release NAME [options]

Gathers what the em-runtime upgrade guide's troubleshooting section asks for, after a failed upgrade, through
the Kubernetes API (KUBECONFIG; no kubectl needed). Nothing is changed.

  pods                  the release's pods (app.kubernetes.io/instance=NAME): phase, Ready, restarts, problem
  crash-looping         each container in CrashLoopBackOff (or down after a failed run): the last lines of
                        its previous run (kubectl logs --previous), and the migration errors they match
                        (two migrations with the same parent, a missing database or extension, an
                        incompatible secret format...)
  events                the newest events of the release's pods (kubectl get events)
  init containers       init containers still waiting on their dependencies (PostgreSQL, Redis,
                        Keycloak), and what they print
  infrastructure pods   kubectl get pods -l app.kubernetes.io/component=database
  Keycloak's logs       kubectl logs -l app=keycloak (else app.kubernetes.io/name=keycloak)

Secrets are masked in every log line and event: the values of the Secrets the pods use (read from the
cluster), the runbook's own secrets, URL passwords, password/token/secret assignments, bearer tokens, JWTs.

Options:
  --namespace NS                 the release's namespace
  --release NAME                 the Helm release, e.g. em-runtime
  --context NAME                 kubeconfig context (default: the current one)
  --log-lines N                  lines from the end of each log (default 50)
  --max-events N                 newest events kept (default 30)
  --infrastructure-selector SEL  default ${DEFAULT_INFRASTRUCTURE_SELECTOR}
  --keycloak-selector SEL        default ${DEFAULT_KEYCLOAK_SELECTORS.join(", then ")}
  --json                         print one JSON object: {ok, namespace, release, pods, crashLoops,
                                 events, waitingInitContainers, infrastructure, keycloak, errors}

Exit codes: 0 everything was read, 1 a part could not be read (named under errors; the rest is printed),
2 bad usage.`;

export const diagnoseCommand: CliCommand = {
  name: "diagnose",
  summary: "after a failed upgrade: previous logs of crash-looping pods, events, waiting init containers, Keycloak",
  help: HELP,
  options: {
    namespace: { type: "string" },
    release: { type: "string" },
    context: { type: "string" },
    "log-lines": { type: "string" },
    "max-events": { type: "string" },
    "infrastructure-selector": { type: "string" },
    "keycloak-selector": { type: "string" },
  },
  async run(values, env): Promise<CommandResult> {
    const options = diagnoseOptionsFrom(values, env);
    const report = await runDiagnose(options);
    const ok = report.errors.length === 0;
    return { ok, json: { ok, ...report }, text: textReport(report) };
  },
};

function diagnoseOptionsFrom(values: ParsedValues, env: NodeJS.ProcessEnv): DiagnoseOptions {
  const namespace = optionalString(values, "namespace");
  const release = optionalString(values, "release");
  if (namespace === undefined || release === undefined) {
    throw new UsageError(
      `${namespace === undefined ? "--namespace" : "--release"} is required: the release to diagnose, e.g. --namespace em --release em-runtime`,
    );
  }
  const namespaceProblem = namespaceNameProblem(namespace);
  if (namespaceProblem !== undefined) throw new UsageError(`--namespace '${namespace}' ${namespaceProblem}`);
  const releaseProblem = releaseNameProblem(release);
  if (releaseProblem !== undefined) throw new UsageError(`--release '${release}' ${releaseProblem}`);
  const context = optionalString(values, "context");
  const keycloak = labelSelectorFlag(values, "keycloak-selector", "app=keycloak");
  return {
    target: { namespace, ...(context === undefined ? {} : { context }) },
    release,
    logLines: count(values, "log-lines", 50),
    maxEvents: count(values, "max-events", 30),
    infrastructureSelector:
      labelSelectorFlag(values, "infrastructure-selector", DEFAULT_INFRASTRUCTURE_SELECTOR) ??
      DEFAULT_INFRASTRUCTURE_SELECTOR,
    keycloakSelectors: keycloak === undefined ? DEFAULT_KEYCLOAK_SELECTORS : [keycloak],
    env,
  };
}

function count(values: ParsedValues, flag: string, fallback: number): number {
  const value = optionalString(values, flag);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--${flag} must be a whole number of at least 1, got '${value}'`);
  }
  return Number(value);
}

function podLine(p: PodSummary): string {
  return `  ${p.name}  ${p.phase}  ${p.ready ? "Ready" : "not Ready"}  ${p.restarts} restart(s)${p.problem === undefined ? "" : `  ${p.problem}`}`;
}

const quoted = (lines: readonly string[]) => lines.map((l) => `    | ${l}`);

function textReport(r: DiagnoseReport): string {
  const out: string[] = [`diagnose ${r.release} in namespace ${r.namespace}`, ""];
  out.push(`pods of the release (${releasePodSelector(r.release)}): ${r.pods.length}`, ...r.pods.map(podLine), "");

  out.push("crash-looping containers, their previous run's logs (kubectl logs --previous):");
  if (r.crashLoops.length === 0) out.push("  none");
  for (const c of r.crashLoops) {
    out.push(
      `  pod/${c.pod}/${c.container}${c.init ? " (init)" : ""}: ${c.restarts} restart(s)${c.lastExit === undefined ? "" : `, last run ended ${c.lastExit}`}`,
    );
    if (c.migrationErrors.length > 0) out.push(`    migration errors: ${c.migrationErrors.join(", ")}`);
    out.push(...(c.previousLogs.length === 0 ? ["    (no previous logs)"] : quoted(c.previousLogs)));
  }
  out.push("");

  out.push("events of the release's pods, newest first:");
  if (r.events.length === 0) out.push("  none");
  for (const e of r.events) {
    out.push(
      `  ${e.lastSeen ?? "(no time)"}  ${e.type}  ${e.reason}  pod/${e.pod}  ${e.message}${e.count > 1 ? ` (x${e.count})` : ""}`,
    );
  }
  out.push("");

  out.push("init containers waiting on dependencies (PostgreSQL, Redis, Keycloak):");
  if (r.waitingInitContainers.length === 0) out.push("  none");
  for (const w of r.waitingInitContainers) {
    const state =
      w.state === "running" ? `running${w.since === undefined ? "" : ` since ${w.since}`}` : `waiting (${w.reason})`;
    out.push(`  pod/${w.pod}/${w.container}: ${state}`, ...quoted(w.logs));
  }
  out.push("");

  out.push(`infrastructure pods (${r.infrastructure.selector}): ${r.infrastructure.pods.length}`);
  out.push(...r.infrastructure.pods.map(podLine), "");

  out.push(`Keycloak's logs (${r.keycloak.selector}):`);
  if (r.keycloak.pods.length === 0) out.push(`  no pods labelled ${r.keycloak.selector} in namespace ${r.namespace}`);
  out.push(...r.keycloak.logs.map((l) => `  ${l}`));

  if (r.errors.length > 0) out.push("", "could not read:", ...r.errors.map((e) => `  ${e}`));
  return out.join("\n");
}
