import type { Client } from "pg";
import { connectClient } from "../pg/client";
import type { PgConnection } from "../pg/connection";
import { queryFailed } from "../pg/errors";

export interface ServerDatabase {
  readonly name: string;
  /** pg_database_size; null when the role may not connect to it (the dump will then fail and say so). */
  readonly sizeBytes: number | null;
}

/**
 * The databases a server snapshot dumps: every one that is not a template and accepts connections, `postgres`
 * included (it often holds extensions or an application's tables, and costs a second when it holds nothing).
 * pg_dumpall also dumps template1's contents; a snapshot does not (a customised template1 is rebuilt by hand).
 */
export async function listServerDatabases(client: Client, connection: PgConnection): Promise<ServerDatabase[]> {
  try {
    const { rows } = await client.query<{ name: string; size: string | null }>(
      `select datname as name,
              case when has_database_privilege(oid, 'CONNECT') then pg_database_size(oid) end::text as size
         from pg_database
        where datallowconn and not datistemplate
        order by datname`,
    );
    return rows.map((r) => ({ name: r.name, sizeBytes: r.size === null ? null : Number(r.size) }));
  } catch (err) {
    throw queryFailed("listing the databases on the server", err, connection);
  }
}

/**
 * The Alembic revision(s) a database is at: `alembic_version.version_num` (several rows on a branched history,
 * joined with ','), or null when the database has no such table or it is empty. Read in a read-only transaction.
 */
export async function readAlembicVersion(connection: PgConnection): Promise<string | null> {
  const client = await connectClient(connection, { statementTimeoutMs: 30_000 });
  try {
    await client.query("begin read only");
    const present = await client.query<{ table: string | null }>(
      "select to_regclass('alembic_version')::text as table",
    );
    if (present.rows[0].table === null) return null;
    const { rows } = await client.query<{ version: string | null }>(
      "select string_agg(version_num::text, ',' order by version_num) as version from alembic_version",
    );
    return rows[0].version;
  } catch (err) {
    throw queryFailed(`reading alembic_version of database ${connection.database}`, err, connection);
  } finally {
    await client.query("rollback").catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
