/**
 * A database snapshot exported for pg_dump (`pg_export_snapshot()`, `pg_dump --snapshot`): the schema
 * version is read inside the very snapshot the dump is taken from, so the manifest's version and the dump's
 * contents cannot disagree, whatever migrates in between. The exporting transaction must stay open until
 * pg_dump has started using the snapshot; release() ends it.
 */
import type { Client } from "pg";
import { schemaVersionInTransaction } from "./check-database";
import { connectClient } from "./client";
import type { PgConnection } from "./connection";
import { queryFailed } from "./errors";
import { OperationFailed } from "../errors";

export interface ExportedSnapshot {
  /** The id pg_dump takes as --snapshot. */
  readonly id: string;
  /** The schema version as the snapshot sees it; null without a query. */
  readonly schemaVersion: string | null;
  /** Ends the exporting transaction (after pg_dump has finished). */
  release(): Promise<void>;
}

export async function exportSnapshot(connection: PgConnection, schemaVersionQuery?: string): Promise<ExportedSnapshot> {
  const client: Client = await connectClient(connection);
  try {
    await client.query("begin isolation level repeatable read read only");
    const { rows } = await client.query<{ id: string }>("select pg_export_snapshot() as id");
    const schemaVersion =
      schemaVersionQuery === undefined
        ? null
        : await schemaVersionInTransaction(client, connection, schemaVersionQuery);
    return {
      id: rows[0].id,
      schemaVersion,
      release: async () => {
        await client.query("commit").catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    if (err instanceof OperationFailed) throw err; // the schema version query's own message
    throw queryFailed("exporting a snapshot for pg_dump", err, connection);
  }
}
