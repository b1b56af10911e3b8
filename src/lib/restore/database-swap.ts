import type { Client } from "pg";
import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import { queryFailed } from "../pg/errors";

/** PostgreSQL truncates identifiers to 63 bytes; generated names are shortened to fit instead. */
const MAX_IDENTIFIER_BYTES = 63;
const RENAME_ATTEMPTS = 3;

/** The restore stopped half-way and could not be undone: the message names its journal and the two ways out. */
export class SwapIncomplete extends OperationFailed {}

export interface SwapNames {
  /** The database the snapshot is restored into first: `<db>_restore_<time>`. */
  readonly scratch: string;
  /** What the current database is renamed to, and kept: `<db>_pre_restore_<time>`. */
  readonly kept: string;
}

/**
 * Names for a restore started at `now`; `attempt` 2, 3, ... tell apart restores of the same database started in
 * the same second (`<db>_pre_restore_<time>_2`).
 */
export function swapNames(database: string, now: Date, attempt = 1): SwapNames {
  const stamp =
    now.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "_") + (attempt > 1 ? `_${attempt}` : "");
  return { scratch: suffixed(database, `_restore_${stamp}`), kept: suffixed(database, `_pre_restore_${stamp}`) };
}

function suffixed(database: string, suffix: string): string {
  let base = database;
  while (Buffer.byteLength(base + suffix) > MAX_IDENTIFIER_BYTES) base = base.slice(0, -1);
  return base + suffix;
}

export async function databaseExists(admin: Client, name: string): Promise<boolean> {
  const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [name]);
  return (rowCount ?? 0) > 0;
}

/**
 * Drops a database this restore created (the scratch one); nothing else is ever dropped. Its sessions are ended
 * first: a pg_restore orphaned by a killed runbook may still be writing into it.
 */
export async function dropScratchDatabase(admin: Client, connection: PgConnection, scratch: string): Promise<void> {
  try {
    await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity" +
        " where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'",
      [scratch],
    );
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(scratch)}`);
  } catch (err) {
    throw queryFailed(`dropping the scratch database ${scratch} (drop it by hand)`, err, connection);
  }
}

/** ALTER DATABASE ... ALLOW_CONNECTIONS: the target is closed while it is swapped, and reopened after. */
export async function setAllowConnections(
  admin: Client,
  connection: PgConnection,
  database: string,
  allow: boolean,
): Promise<void> {
  await run(
    admin,
    connection,
    `${allow ? "reopening" : "closing"} ${database} ${allow ? "to" : "to new"} connections`,
    `ALTER DATABASE ${admin.escapeIdentifier(database)} ALLOW_CONNECTIONS ${allow}`,
  );
}

/** Whether a database accepts connections (pg_database.datallowconn). */
export async function allowsConnections(admin: Client, database: string): Promise<boolean> {
  const { rows } = await admin.query("select datallowconn from pg_database where datname = $1", [database]);
  return rows[0]?.datallowconn === true;
}

/** Renames a database nobody else is connected to (the scratch one, or a closed kept one). */
export async function renameDatabase(admin: Client, connection: PgConnection, from: string, to: string): Promise<void> {
  await run(
    admin,
    connection,
    `renaming ${from} to ${to}`,
    `ALTER DATABASE ${admin.escapeIdentifier(from)} RENAME TO ${admin.escapeIdentifier(to)}`,
  );
}

/**
 * Renames a database that sessions may still use (the target, closed to new connections first): its other
 * client sessions are terminated, and the rename retried while one lingers.
 */
export async function renameAfterTerminating(
  admin: Client,
  connection: PgConnection,
  target: string,
  kept: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      // Client sessions only: the rename itself stops autovacuum workers, which only a superuser may terminate.
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity" +
          " where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'",
        [target],
      );
    } catch (err) {
      throw queryFailed(
        `terminating the other sessions on ${target} (needs superuser, membership in their roles, or pg_signal_backend)`,
        err,
        connection,
      );
    }
    try {
      // The server waits up to 5 s for terminated sessions to exit before it gives up with 55006.
      await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(target)} RENAME TO ${admin.escapeIdentifier(kept)}`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== "55006" || attempt >= RENAME_ATTEMPTS) {
        throw queryFailed(`renaming ${target} to ${kept}`, err, connection);
      }
    }
  }
}

async function run(admin: Client, connection: PgConnection, what: string, sql: string): Promise<void> {
  try {
    await admin.query(sql);
  } catch (err) {
    throw queryFailed(what, err, connection);
  }
}
