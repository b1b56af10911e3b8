import type { CliCommand } from "../command";
import { preflightCommand } from "./preflight";
import { restoreCommand } from "./restore";
import { snapshotCommand } from "./snapshot";
import { verifyCommand } from "./verify";
import { historyCommand } from "./history";
import { rollbackCommand } from "./rollback";
import { diffCommand } from "./diff";
import { unlockCommand } from "./unlock";
import { diagnoseCommand } from "./diagnose";

/** Every `runbook` command, in the order `runbook --help` lists them. */
export const commands: CliCommand[] = [
  preflightCommand,
  snapshotCommand,
  restoreCommand,
  verifyCommand,
  diagnoseCommand,
  diffCommand,
  historyCommand,
  rollbackCommand,
  unlockCommand,
];
