import type { Client } from "pg";
import { connectClient } from "../pg/client";
import { PgConnection, withDatabase } from "../pg/connection";
import { LockHolder, parseHolderLabel } from "./holder";
import { LockKey } from "./lock-key";

/**
 * Advisory locks belong to the database the session is connected to, so every runbook takes its locks from
 * the same one, never from the target (a restore renames the target and ends the sessions on it). `postgres`
 * first; template1 only where `postgres` cannot be reached, as the restore's own maintenance connection does.
 */
const LOCK_DATABASES = ["postgres", "template1"];

/** Connects to the server's lock database, showing `applicationName` in pg_stat_activity. */
export async function connectLockSession(connection: PgConnection, applicationName?: string): Promise<Client> {
  let firstError: unknown;
  for (const name of LOCK_DATABASES) {
    try {
      return await connectClient({ ...withDatabase(connection, name), applicationName });
    } catch (err) {
      firstError ??= err;
    }
  }
  throw firstError;
}

/** A server session holding a runbook lock, as pg_locks and pg_stat_activity show it. */
export interface HoldingSession {
  /** The server process of the holding session (pg_terminate_backend's argument). */
  readonly backendPid: number;
  /** The role the holding session logged in as. */
  readonly role: string;
  /** Who the session says it is; undefined when its application_name is not a runbook label. */
  readonly holder?: LockHolder;
}

/** The session holding `key` in the lock database, if any. */
export async function findHoldingSession(client: Client, key: LockKey): Promise<HoldingSession | undefined> {
  const { rows } = await client.query(
    `select l.pid, a.usename, a.application_name
       from pg_locks l left join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 2
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = $1::bigint::oid and l.objid = $2::bigint::oid`,
    [key.namespace, key.key],
  );
  if (rows.length === 0) return undefined;
  const row = rows[0] as { pid: number; usename: string | null; application_name: string | null };
  return {
    backendPid: row.pid,
    role: row.usename ?? "?",
    holder: row.application_name === null ? undefined : parseHolderLabel(row.application_name),
  };
}
