import type { Client, QueryArrayConfig } from "pg";
import { OperationFailed } from "../errors";
import { redactSecrets } from "../redact";
import { connectClient } from "./client";
import { PgConnection, parsePgDsn, secretsOf } from "./connection";
import { queryFailed } from "./errors";

export interface DatabaseFacts {
  /** `server_version`, e.g. "15.4 (Debian 15.4-1.pgdg120+1)". */
  readonly serverVersion: string;
  /** `server_version_num`, e.g. 150004. */
  readonly serverVersionNum: number;
  /** `current_database()`. */
  readonly database: string;
  /** First column of the first row of the schema version query, as text; absent when no query was given. */
  readonly schemaVersion?: string | null;
}

export interface CheckDatabaseOptions {
  /** The application's schema/migration version, e.g. `select max(version) from schema_migrations`. */
  readonly schemaVersionQuery?: string;
  /** Bounds connecting; default PG_DSN's connect_timeout or 10 s. */
  readonly connectTimeoutMs?: number;
  /** Bounds each statement on the server; default 30 s. */
  readonly statementTimeoutMs?: number;
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * Connects, runs a trivial query and reads the server version and, when asked, the schema version.
 * Throws OperationFailed (exit 1) with a redacted message naming the fix; an unusable DSN is a UsageError.
 */
export async function checkDatabase(
  dsn: string | PgConnection,
  options: CheckDatabaseOptions = {},
): Promise<DatabaseFacts> {
  const connection = typeof dsn === "string" ? parsePgDsn(dsn) : dsn;
  const client = await connectClient(connection, {
    connectTimeoutMs: options.connectTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  });
  try {
    return await readFacts(client, connection, options.schemaVersionQuery);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readFacts(
  client: Client,
  connection: PgConnection,
  schemaVersionQuery?: string,
): Promise<DatabaseFacts> {
  let row: { server_version: string; server_version_num: number; database: string };
  try {
    const result = await client.query(
      "select current_setting('server_version') as server_version," +
        " current_setting('server_version_num')::int as server_version_num, current_database() as database",
    );
    row = result.rows[0];
  } catch (err) {
    throw queryFailed("reading the server version", err, connection);
  }
  const facts = { serverVersion: row.server_version, serverVersionNum: row.server_version_num, database: row.database };
  if (schemaVersionQuery === undefined) return facts;
  return { ...facts, schemaVersion: await readSchemaVersion(client, connection, schemaVersionQuery) };
}

async function readSchemaVersion(client: Client, connection: PgConnection, query: string): Promise<string | null> {
  // A read-only transaction so the query cannot write.
  await client.query("begin read only");
  try {
    const version = await schemaVersionInTransaction(client, connection, query);
    await client.query("commit");
    return version;
  } catch (err) {
    await client.query("rollback").catch(() => undefined);
    throw err;
  }
}

/**
 * Runs the schema version query inside the caller's (read-only) transaction. The extended protocol accepts
 * exactly one statement, so a `; commit; ...` cannot end that transaction. rowMode array: the first column
 * whatever its name.
 */
export async function schemaVersionInTransaction(
  client: Client,
  connection: PgConnection,
  query: string,
): Promise<string | null> {
  let rows: unknown[][];
  try {
    const config: QueryArrayConfig & { queryMode: "extended" } = {
      text: query,
      rowMode: "array",
      queryMode: "extended",
    };
    rows = (await client.query(config)).rows;
  } catch (err) {
    const message = redactSecrets((err as Error).message ?? String(err), secretsOf(connection));
    throw new OperationFailed(
      `the schema version query failed: ${message}; fix --schema-version-query (it must be one read-only SELECT ` +
        `whose first column is the version, e.g. "select max(version) from schema_migrations")`,
    );
  }
  if (rows.length === 0 || rows[0].length === 0) {
    throw new OperationFailed(
      "the schema version query returned no rows: fix --schema-version-query so it returns the version in its first row",
    );
  }
  const value = rows[0][0];
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}
