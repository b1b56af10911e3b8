import { connectClient } from "../pg/client";
import { PgConnection, withDatabase } from "../pg/connection";
import { listServerDatabases, readAlembicVersion } from "../snapshot/server-databases";
import { findServerSnapshot } from "../snapshot/server-snapshot-files";
import type { DatabaseSchemaNow, ServerSchemas } from "./after-failure";

/**
 * Every database the server snapshot saved, with the Alembic version its manifest recorded and the one the
 * server holds now (read as the snapshot read it), for deciding whether a Helm rollback is safe. Anything
 * that cannot be read makes the answer unknown, never "unchanged".
 */
export async function readServerSchemas(snapshotPath: string, connection: PgConnection): Promise<ServerSchemas> {
  try {
    const server = await findServerSnapshot(snapshotPath);
    if (server === undefined) return { unknown: `${snapshotPath} is not a server snapshot (it has no manifest.json)` };
    const client = await connectClient(connection, { statementTimeoutMs: 30_000 });
    let live: Set<string>;
    try {
      live = new Set((await listServerDatabases(client, connection)).map((d) => d.name));
    } finally {
      await client.end().catch(() => undefined);
    }
    const databases: DatabaseSchemaNow[] = [];
    for (const entry of server.manifest.databases) {
      const gone = !live.has(entry.name);
      const now = gone ? null : await readAlembicVersion(withDatabase(connection, entry.name));
      databases.push({ database: entry.name, before: entry.schemaVersion, now, gone });
    }
    return { databases };
  } catch (err) {
    return { unknown: (err as Error).message };
  }
}
