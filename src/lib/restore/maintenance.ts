import type { Client } from "pg";
import { connectClient } from "../pg/client";
import { PgConnection, withDatabase } from "../pg/connection";
import { queryFailed } from "../pg/errors";

/** Databases the restore can connect to for CREATE/ALTER DATABASE; never the target, which gets renamed. */
const MAINTENANCE_DATABASES = ["postgres", "template1"];

/**
 * Runs work on a connection to another database of the same server (CREATE/ALTER DATABASE on the target
 * cannot run while connected to it), closing the connection afterwards.
 */
export async function withMaintenance<T>(
  connection: PgConnection,
  work: (admin: Client, adminConnection: PgConnection) => Promise<T>,
): Promise<T> {
  let firstError: unknown;
  for (const name of MAINTENANCE_DATABASES.filter((n) => n !== connection.database)) {
    const adminConnection = withDatabase(connection, name);
    let admin: Client;
    try {
      admin = await connectClient(adminConnection);
    } catch (err) {
      firstError ??= err; // no CONNECT on postgres, or it was dropped: try the next
      continue;
    }
    try {
      return await work(admin, adminConnection);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
  throw firstError;
}

export async function runStatement(admin: Client, connection: PgConnection, what: string, sql: string): Promise<void> {
  try {
    await admin.query(sql);
  } catch (err) {
    throw queryFailed(what, err, connection);
  }
}
