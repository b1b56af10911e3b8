import type { Client } from "pg";
import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import { queryFailed } from "../pg/errors";
import { LockHolder, currentHolder, describeHolder, holderLabel } from "./holder";
import { HoldingSession, connectLockSession, findHoldingSession } from "./lock-session";
import { LockKey, lockKeyFor } from "./lock-key";
import { handoffValue, isHandedDown, LOCK_HANDOFF_ENV } from "./handoff";

/** Another runbook operation holds the lock: the message names it and the ways out. */
export class LockHeld extends OperationFailed {}

/** The session holding this operation's lock ended while the operation ran. */
export class LockLost extends OperationFailed {}

export interface LockRequest {
  /** The server, and the role that takes the lock (PG_DSN). */
  readonly connection: PgConnection;
  /** The database the operation works on: the lock's key. */
  readonly database: string;
  /** The runbook command, shown to whoever finds the lock taken, e.g. `restore --resume`. */
  readonly command: string;
  /** Where a lock handed down by an ancestor runbook operation is found (LOCK_HANDOFF_ENV). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A lock taken by this process; it is also released when the process or its server session dies. */
export interface HeldLock {
  readonly database: string;
  readonly holder: LockHolder;
  /** Throws when the session holding the lock has ended (e.g. `runbook unlock --force`, a server restart). */
  assertHeld(): void;
  release(): Promise<void>;
  /** The environment a runbook command run as a step of this operation needs to work under this lock. */
  handoffEnv(): Record<string, string>;
  /** The lock is an ancestor's, handed down: this process neither took it nor releases it. */
  readonly handedDown: boolean;
}

/**
 * Takes the operation lock on a database, without waiting: a session-level advisory lock held on a dedicated
 * connection for the whole operation, its holder written into that session's application_name where a second
 * operator's runbook reads it back.
 */
export async function acquireOperationLock(request: LockRequest): Promise<HeldLock> {
  const key = lockKeyFor(request.database);
  const holder = currentHolder(request.command);
  const client = await connectLockSession(request.connection, holderLabel(holder));
  let lost: string | undefined;
  client.on("error", (err: Error) => (lost ??= err.message));
  client.on("end", () => (lost ??= "the connection closed"));
  let taken: boolean;
  let holding: HoldingSession | undefined;
  try {
    const { rows } = await client.query("select pg_try_advisory_lock($1::int4, $2::int4) as taken", [
      key.namespace,
      key.key,
    ]);
    taken = rows[0].taken === true;
    if (!taken) holding = await findHoldingSession(client, key);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw queryFailed(`taking the runbook lock on database ${request.database}`, err, request.connection);
  }
  if (!taken) {
    await client.end().catch(() => undefined);
    if (holding?.holder !== undefined && isHandedDown(request.env ?? process.env, holding.holder, request.database)) {
      const handed = holding.holder;
      return {
        database: request.database,
        holder: handed,
        handedDown: true,
        assertHeld: () => undefined, // the ancestor watches its own session
        release: async () => undefined,
        handoffEnv: () => ({ [LOCK_HANDOFF_ENV]: handoffValue(handed, request.database) }),
      };
    }
    throw new LockHeld(lockHeldMessage(request.database, holding), {
      lock: { database: request.database, backendPid: holding?.backendPid, holder: holding?.holder },
    });
  }
  let released = false;
  return {
    database: request.database,
    holder,
    handedDown: false,
    handoffEnv: () => ({ [LOCK_HANDOFF_ENV]: handoffValue(holder, request.database) }),
    assertHeld(): void {
      if (lost !== undefined && !released) {
        throw new LockLost(
          `lost the runbook lock on database ${request.database} (${lost}): another operation may have started; stopping here`,
        );
      }
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      await unlock(client, key).catch(() => undefined); // ending the session releases it anyway
      await client.end().catch(() => undefined);
    },
  };
}

/** Runs work while holding the operation lock on a database, and releases it however the work ends. */
export async function withOperationLock<T>(request: LockRequest, work: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireOperationLock(request);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}

async function unlock(client: Client, key: LockKey): Promise<void> {
  await client.query("select pg_advisory_unlock($1::int4, $2::int4)", [key.namespace, key.key]);
}

function lockHeldMessage(database: string, holding: HoldingSession | undefined): string {
  const unlock = `\`runbook unlock --database ${database}\``;
  if (holding === undefined) {
    return `another runbook operation held the lock on database ${database} and has just let it go: run the command again`;
  }
  const who =
    holding.holder === undefined
      ? `a session of role ${holding.role} that does not say who it is`
      : describeHolder(holding.holder);
  return (
    `another runbook operation holds the lock on database ${database}: ${who}, server session ${holding.backendPid}; ` +
    `wait for it, or if that process is gone, ${unlock} ends its server session and so releases the lock`
  );
}
