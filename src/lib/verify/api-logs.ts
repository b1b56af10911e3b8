import { KubeTarget, readContainerLogs } from "../kube";
import { redactSecrets } from "../redact";
import { CheckResult, fail, pass, skip } from "../check";
import { logLineShape } from "./log-line-shape";
import { findStartupErrors, STARTUP_ERROR_PATTERNS, StartupErrorLine } from "./startup-errors";

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
  let lines: string[];
  try {
    lines = await readContainerLogs(source.release, source.target, env, source.lines);
  } catch (err) {
    return fail(name, `could not read the api logs: ${redactSecrets((err as Error).message, env)}`);
  }
  const errors = findStartupErrors(lines);
  if (errors.length === 0) {
    return pass(
      name,
      `${lines.length} line(s) of the api containers' logs, none matching ${STARTUP_ERROR_PATTERNS.map((p) => p.name).join(" | ")}`,
    );
  }
  return fail(name, describeStartupErrors(errors, lines.length));
}

/**
 * What the check says about the lines that matched: how many, and the first few as the pattern each matched
 * and the line's shape with every value masked (logLineShape). The detail reaches the Pulumi state in plain
 * text, so it never quotes the application's own text.
 */
export function describeStartupErrors(errors: readonly StartupErrorLine[], linesRead: number): string {
  const quoted = errors
    .slice(0, QUOTED_LINES)
    .map((e) => `[${e.pattern}] ${truncate(logLineShape(e.line), 240)}`)
    .join(" / ");
  return `${errors.length} of the last ${linesRead} api log line(s) look like startup errors: ${quoted}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
