import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import { queryFailed } from "../pg/errors";
import { describeHolder, holderIsOnThisHost } from "./holder";
import { HoldingSession, connectLockSession, findHoldingSession } from "./lock-session";
import { lockKeyFor } from "./lock-key";

export interface BreakLockRequest {
  readonly connection: PgConnection;
  readonly database: string;
  /** End the holding session even when its runbook process may still be running. */
  readonly force: boolean;
}

export interface BreakLockOutcome {
  readonly database: string;
  /** The session whose end released the lock; undefined when nobody held it. */
  readonly broken?: HoldingSession;
}

const GONE_WAIT_MS = 5_000;

/**
 * Releases a runbook lock whose holder is gone but whose server session is not (a host that vanished, a
 * half-open connection) by ending that session. A holder on this machine whose process still runs, or one on
 * another machine (which cannot be checked from here), is only broken with `force`: ending a live
 * operation's lock lets a second one start beside it.
 */
export async function breakLock(request: BreakLockRequest): Promise<BreakLockOutcome> {
  const key = lockKeyFor(request.database);
  const client = await connectLockSession(request.connection);
  try {
    const holding = await findHoldingSession(client, key).catch((err: unknown) => {
      throw queryFailed(`reading who holds the runbook lock on ${request.database}`, err, request.connection);
    });
    if (holding === undefined) return { database: request.database };
    if (!request.force) {
      const refusal = liveHolderRefusal(request.database, holding);
      if (refusal !== undefined) throw new OperationFailed(refusal, { lock: holding });
    }
    try {
      await client.query("select pg_terminate_backend($1)", [holding.backendPid]);
    } catch (err) {
      throw queryFailed(
        `ending server session ${holding.backendPid} (needs membership in role ${holding.role}, pg_signal_backend or superuser)`,
        err,
        request.connection,
      );
    }
    for (const started = Date.now(); Date.now() - started < GONE_WAIT_MS;) {
      if ((await findHoldingSession(client, key)) === undefined) return { database: request.database, broken: holding };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new OperationFailed(
      `server session ${holding.backendPid} was told to end but still holds the lock on ${request.database} after ` +
        `${GONE_WAIT_MS / 1000} s; try again, or ask the DBA to look at it`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function liveHolderRefusal(database: string, holding: HoldingSession): string | undefined {
  const force = `\`runbook unlock --database ${database} --force\``;
  if (holding.holder === undefined) {
    return (
      `the lock on database ${database} is held by server session ${holding.backendPid} of role ${holding.role}, ` +
      `which does not say which runbook process it belongs to; if you are sure no runbook operation is running, ${force}`
    );
  }
  const who = describeHolder(holding.holder);
  if (!holderIsOnThisHost(holding.holder)) {
    return (
      `the lock on database ${database} is held by ${who}, on another machine: check there that the process is ` +
      `gone (or stop it), then ${force}`
    );
  }
  if (processIsRunning(holding.holder.pid)) {
    return (
      `the lock on database ${database} is held by ${who}, and that process is still running on this machine: ` +
      `let it finish or stop it (kill ${holding.holder.pid}); if it hangs, ${force}`
    );
  }
  return undefined;
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // running, as another user
  }
}
