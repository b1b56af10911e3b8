import type { CliCommand } from "../command";

/** Every `runbook` command, in the order `runbook --help` lists them. */
export const commands: CliCommand[] = [];
