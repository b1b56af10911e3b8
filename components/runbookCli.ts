import * as pulumi from "@pulumi/pulumi";

/**
 * The CLI as command resources call it: relative to the project directory, which is where Pulumi runs
 * the program and its local commands. A relative path keeps machine-specific paths out of the state, so
 * the same stack run from another checkout does not re-run every command.
 */
export const RUNBOOK_CLI = "node ./bin/runbook.js";

const SAFE_WORD = /^[a-z][a-z0-9-]*$/;

/** A `runbook` call for `local.Command`: a constant command line; every value travels in `environment`. */
export interface RunbookInvocation {
  readonly create: string;
  readonly environment: Record<string, pulumi.Input<string>>;
}

/** `out-dir` → `RUNBOOK_ARG_OUT_DIR`. */
export function flagEnvName(flag: string): string {
  return `RUNBOOK_ARG_${flag.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * Builds `node ./bin/runbook.js <command> --flag "$RUNBOOK_ARG_FLAG" ... --switch --json`. The shell only
 * expands the quoted variables, so a config value such as `v1$(touch /tmp/x)` reaches the CLI as text and
 * is never run. Flags whose value is undefined are left out; switches are constants chosen by the program.
 */
export function runbookInvocation(
  command: string,
  flags: Readonly<Record<string, pulumi.Input<string> | undefined>>,
  switches: readonly string[] = [],
  extraEnvironment: Readonly<Record<string, pulumi.Input<string> | undefined>> = {},
): RunbookInvocation {
  for (const word of [command, ...Object.keys(flags), ...switches]) {
    if (!SAFE_WORD.test(word)) throw new Error(`runbookInvocation: '${word}' is not a plain command or flag name`);
  }
  const parts = [RUNBOOK_CLI, command];
  const environment: Record<string, pulumi.Input<string>> = {};
  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const name = flagEnvName(flag);
    parts.push(`--${flag}`, `"$${name}"`);
    environment[name] = value;
  }
  for (const [name, value] of Object.entries(extraEnvironment)) {
    if (value !== undefined) environment[name] = value;
  }
  parts.push(...switches.map((s) => `--${s}`), "--json");
  return { create: parts.join(" "), environment };
}

/** Parses the one JSON object a `runbook ... --json` call prints. */
export function parseRunbookJson(stdout: string, command: string): Record<string, unknown> {
  const line = stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (line === undefined) throw new Error(`runbook ${command} printed no JSON result`);
  return JSON.parse(line) as Record<string, unknown>;
}
