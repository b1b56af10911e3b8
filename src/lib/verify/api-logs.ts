import { ContainerLogs, KubeTarget, readContainerLogs } from "../kube";
import { redactSecrets } from "../redact";
import { CheckResult, fail, pass, skip } from "../check";
import { logLineShape } from "./log-line-shape";
import { findStartupErrors, LogErrorPattern, STARTUP_ERROR_PATTERNS, StartupErrorLine } from "./startup-errors";

export interface ApiLogsSource {
  readonly target: KubeTarget;
  readonly release: string;
  /** How many lines from the end of each api container's log (--log-lines). */
  readonly lines: number;
}

/** How many offending lines the detail quotes. */
const QUOTED_LINES = 3;

/** The last lines of the api container's logs carry none of STARTUP_ERROR_PATTERNS. */
export async function checkApiLogs(source: ApiLogsSource | undefined, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const name = "api-logs";
  if (source === undefined) return skip(name, "no --namespace/--release given, so the api logs were not read");
  let logs: ContainerLogs;
  try {
    logs = await readContainerLogs(source.release, source.target, env, source.lines);
  } catch (err) {
    return fail(name, `could not read the api logs: ${redactSecrets((err as Error).message, env)}`);
  }
  // No log read proves nothing: said as skipped, never as passing on 0 lines.
  if (logs.sources.length === 0) {
    return skip(
      name,
      `no pod labelled app.kubernetes.io/instance=${source.release} in namespace ${source.target.namespace} has a ` +
        "container named api: no api logs to read",
    );
  }
  return judgeLogs(name, "api", logs, STARTUP_ERROR_PATTERNS, "startup errors");
}

/**
 * The check's verdict on logs that were read: passed when no line matches `patterns`, failed quoting the
 * matches' shapes; skipped when the containers logged nothing.
 */
export function judgeLogs(
  name: string,
  what: string,
  logs: ContainerLogs,
  patterns: readonly LogErrorPattern[],
  kind: string,
): CheckResult {
  const read = `${logs.sources.length} container log(s) (${logs.sources.join(", ")})`;
  if (logs.lines.length === 0) return skip(name, `${read} hold no lines yet: nothing to check`);
  const errors = findStartupErrors(logs.lines, patterns);
  if (errors.length === 0) {
    return pass(
      name,
      `${logs.lines.length} line(s) of ${read}, none matching ${patterns.map((p) => p.name).join(" | ")}`,
    );
  }
  return fail(name, describeLogErrors(errors, logs.lines.length, what, kind));
}

/** describeLogErrors for the api's startup errors. */
export function describeStartupErrors(errors: readonly StartupErrorLine[], linesRead: number): string {
  return describeLogErrors(errors, linesRead, "api", "startup errors");
}

/**
 * What the check says about the lines that matched: how many, and the first few as the pattern each matched
 * and the line's shape with every value masked (logLineShape). The detail reaches the Pulumi state in plain
 * text, so it never quotes the application's own text.
 */
export function describeLogErrors(
  errors: readonly StartupErrorLine[],
  linesRead: number,
  what: string,
  kind: string,
): string {
  const quoted = errors
    .slice(0, QUOTED_LINES)
    .map((e) => `[${e.pattern}] ${truncate(logLineShape(e.line), 240)}`)
    .join(" / ");
  return `${errors.length} of the last ${linesRead} ${what} log line(s) look like ${kind}: ${quoted}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
