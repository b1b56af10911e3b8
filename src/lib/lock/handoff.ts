import { readFileSync } from "node:fs";
import { holderIsOnThisHost, LockHolder } from "./holder";

/**
 * A runbook operation that holds the lock and runs another runbook command as its own step (a rollback runs
 * `runbook restore`, and `pulumi up` runs `runbook snapshot`) hands the lock down through this variable: the
 * holder's pid and the database. The step then works under its ancestor's lock instead of refusing it. Only
 * a descendant of the holding process on the same machine is let in: a second operator's command, even with
 * the variable copied, is still refused.
 */
export const LOCK_HANDOFF_ENV = "RUNBOOK_LOCK_HANDOFF";

export function handoffValue(holder: LockHolder, database: string): string {
  return `${holder.pid}:${database}`;
}

/** Whether this process may work under `holder`'s lock on `database`. */
export function isHandedDown(
  env: NodeJS.ProcessEnv,
  holder: LockHolder | undefined,
  database: string,
  ancestors: () => number[] = ancestorPids,
): boolean {
  const value = env[LOCK_HANDOFF_ENV];
  if (value === undefined || holder === undefined) return false;
  const colon = value.indexOf(":");
  const pid = Number(value.slice(0, colon));
  if (colon < 0 || value.slice(colon + 1) !== database || pid !== holder.pid) return false;
  return holderIsOnThisHost(holder) && ancestors().includes(pid);
}

/** This process's ancestors, parent first, from /proc (Linux); only the parent where /proc is missing. */
export function ancestorPids(): number[] {
  const out: number[] = [];
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1; i++) {
    out.push(pid);
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return out;
}
