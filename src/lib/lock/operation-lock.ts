import type { Client } from "pg";
import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import { queryFailed } from "../pg/errors";
import { LockHolder, currentHolder, describeHolder, holderLabel } from "./holder";
import { HoldingSession, connectLockSession, findHoldingSession } from "./lock-session";
import { LockKey, lockKeyFor } from "./lock-key";

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
}

/** A lock taken by this process; it is also released when the process or its server session dies. */
export interface HeldLock {
  readonly database: string;
  readonly holder: LockHolder;
  /** Throws when the session holding the lock has ended (e.g. `runbook unlock --force`, a server restart). */
  assertHeld(): void;
  release(): Promise<void>;
}

/**
 * Takes the operation lock on a database, without waiting: a session-level advisory lock held on a dedicated
 * connection for the whole operation, its holder written into that session's application_name where a second
 * operator's runbook reads it back.
 */
export async function acquireOperationLock(request: LockRequest): Promise<HeldLock> {
  return acquireDatabaseLocks({
    connection: request.connection,
    databases: [request.database],
    command: request.command,
  });
}

export interface DatabasesLockRequest {
  readonly connection: PgConnection;
  /** Every database the operation works on, present or about to be created. */
  readonly databases: readonly string[];
  readonly command: string;
}

/**
 * Takes the operation lock of every database at once, on one session, all or none: how a server-wide operation
 * (a server snapshot or restore) locks. It conflicts with any single-database operation on one of them, and
 * with another server-wide operation through their first common database; a database outside the set stays
 * free for its own operations. One session means one holder to name and one `runbook unlock --database X`
 * (of any of them) to end it. Nothing waits, so taking them in any order cannot deadlock.
 */
export async function acquireDatabaseLocks(request: DatabasesLockRequest): Promise<HeldLock> {
  const databases = [...new Set(request.databases)].sort();
  const holder = currentHolder(request.command);
  const client = await connectLockSession(request.connection, holderLabel(holder));
  let lost: string | undefined;
  client.on("error", (err: Error) => (lost ??= err.message));
  client.on("end", () => (lost ??= "the connection closed"));
  let busy: { database: string; holding: HoldingSession | undefined } | undefined;
  for (const database of databases) {
    const key = lockKeyFor(database);
    try {
      const { rows } = await client.query("select pg_try_advisory_lock($1::int4, $2::int4) as taken", [
        key.namespace,
        key.key,
      ]);
      if (rows[0].taken !== true) busy = { database, holding: await findHoldingSession(client, key) };
    } catch (err) {
      await client.end().catch(() => undefined);
      throw queryFailed(`taking the runbook lock on database ${database}`, err, request.connection);
    }
    if (busy !== undefined) break;
  }
  if (busy !== undefined) {
    // Ending the session releases the locks already taken.
    await client.end().catch(() => undefined);
    const { database, holding } = busy;
    throw new LockHeld(lockHeldMessage(database, holding), {
      lock: { database, backendPid: holding?.backendPid, holder: holding?.holder },
    });
  }
  const described = databases.length === 1 ? databases[0] : `${databases.length} databases (${databases.join(", ")})`;
  let released = false;
  return {
    database: described,
    holder,
    assertHeld(): void {
      if (lost !== undefined && !released) {
        throw new LockLost(
          `lost the runbook lock on database ${described} (${lost}): another operation may have started; stopping here`,
        );
      }
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      for (const database of databases) await unlock(client, lockKeyFor(database)).catch(() => undefined); // ending the session releases them anyway
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
