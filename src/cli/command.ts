import type { ParseArgsConfig } from "node:util";

/** Exit codes fixed by the CLI's interface: 0 passed, 1 a check or the operation failed, 2 bad usage/config. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** `runbook diff --exit-code`: the command ran and found changes (as `git diff --exit-code` does). */
export const EXIT_CHANGES = 3;

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandResult {
  /** false makes the process exit 1 (a check failed) while still printing the result. */
  readonly ok: boolean;
  /** Printed as one JSON object on stdout under --json. */
  readonly json: Record<string, unknown>;
  /** Printed on stdout without --json. */
  readonly text: string;
  /** An exit code other than 0/1 that the command's interface defines (EXIT_CHANGES); wins over `ok`. */
  readonly exitCode?: number;
}

export interface CliCommand {
  readonly name: string;
  /** One line for `runbook --help`. */
  readonly summary: string;
  /** The full text of `runbook <name> --help`. */
  readonly help: string;
  /** util.parseArgs options; `json` and `help` are added by the dispatcher. */
  readonly options: OptionSpec;
  run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult>;
}
