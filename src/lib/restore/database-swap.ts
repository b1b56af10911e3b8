import type { Client } from "pg";
import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import { queryFailed } from "../pg/errors";

/** PostgreSQL truncates identifiers to 63 bytes; generated names are shortened to fit instead. */
const MAX_IDENTIFIER_BYTES = 63;
const RENAME_ATTEMPTS = 3;

/** The swap stopped half-way and could not be undone: the message says what state it left and how to finish. */
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

/** Drops a database this restore created (the scratch one); nothing else is ever dropped. */
export async function dropScratchDatabase(admin: Client, connection: PgConnection, scratch: string): Promise<void> {
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(scratch)}`);
  } catch (err) {
    throw queryFailed(`dropping the scratch database ${scratch} (drop it by hand)`, err, connection);
  }
}

/**
 * Puts the restored scratch database in the target's place and keeps the current one under another name:
 *   1. ALTER DATABASE target ALLOW_CONNECTIONS false  — nothing new connects while it is being swapped;
 *   2. terminate the target's other sessions;
 *   3. ALTER DATABASE target RENAME TO kept            — retried when a session lingers;
 *   4. ALTER DATABASE scratch RENAME TO target;
 *   5. ALTER DATABASE kept ALLOW_CONNECTIONS true      — as it was, for the operator to inspect or drop.
 * A failure in 1-4 undoes the steps before it, so the target keeps its name and data.
 */
export async function swapDatabases(
  admin: Client,
  connection: PgConnection,
  target: string,
  names: SwapNames,
): Promise<{ warnings: string[] }> {
  const id = (name: string): string => admin.escapeIdentifier(name);
  await run(
    admin,
    connection,
    `closing ${target} to new connections`,
    `ALTER DATABASE ${id(target)} ALLOW_CONNECTIONS false`,
  );
  try {
    await renameAfterTerminating(admin, connection, target, names.kept);
  } catch (err) {
    await admin.query(`ALTER DATABASE ${id(target)} ALLOW_CONNECTIONS true`).catch(() => undefined);
    throw err;
  }
  try {
    await run(
      admin,
      connection,
      `renaming ${names.scratch} to ${target}`,
      `ALTER DATABASE ${id(names.scratch)} RENAME TO ${id(target)}`,
    );
  } catch (err) {
    try {
      await admin.query(`ALTER DATABASE ${id(names.kept)} RENAME TO ${id(target)}`);
    } catch (undoErr) {
      throw new SwapIncomplete(
        `${(err as Error).message}\nputting the original back failed too (${(undoErr as Error).message}): the data is intact ` +
          `in ${names.kept}; run ALTER DATABASE "${names.kept}" RENAME TO "${target}"; ` +
          `ALTER DATABASE "${target}" ALLOW_CONNECTIONS true; as a superuser (the restored copy is ${names.scratch})`,
      );
    }
    await admin.query(`ALTER DATABASE ${id(target)} ALLOW_CONNECTIONS true`).catch(() => undefined);
    throw err;
  }
  const warnings: string[] = [];
  await admin.query(`ALTER DATABASE ${id(names.kept)} ALLOW_CONNECTIONS true`).catch((err: Error) => {
    warnings.push(
      `${names.kept} still refuses connections (${err.message}); ALTER DATABASE "${names.kept}" ALLOW_CONNECTIONS true to inspect it`,
    );
  });
  return { warnings };
}

async function renameAfterTerminating(
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
