import type { PgConnection } from "../pg/connection";
import { queryFailed } from "../pg/errors";
import { withMaintenance } from "./maintenance";
import type { RestoreJournal } from "./restore-journal";

const WAIT_MS = 30_000;

/**
 * Ends the CREATE/ALTER/DROP DATABASE statements a killed restore left running on the server. The server
 * notices a vanished client only when it next talks to it, so a `CREATE DATABASE <scratch>` sent just before a
 * SIGKILL still completes afterwards: a --resume or --abort that looked at the databases before then would find
 * the scratch database missing and later see it appear. Ending such a statement rolls it back. Returns what it ended.
 */
export async function endOrphanedStatements(connection: PgConnection, journal: RestoreJournal): Promise<string[]> {
  const names = [journal.database, journal.scratch, journal.kept].map((n) => `"${n.replace(/"/g, '""')}"`);
  return withMaintenance(connection, async (admin) => {
    const ended: string[] = [];
    for (const started = Date.now(); Date.now() - started < WAIT_MS;) {
      let rows: { pid: number; query: string }[];
      try {
        ({ rows } = await admin.query<{ pid: number; query: string }>(
          `select pid, query from pg_stat_activity
            where pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle'
              and query ~* '^\\s*(create|alter|drop)\\s+database\\s'
              and exists (select 1 from unnest($1::text[]) n where strpos(query, n) > 0)`,
          [names],
        ));
        if (rows.length === 0) return ended;
        for (const row of rows) {
          await admin.query("select pg_terminate_backend($1)", [row.pid]);
          ended.push(`ended server session ${row.pid}, left running by the killed restore: ${row.query.slice(0, 120)}`);
        }
      } catch (err) {
        throw queryFailed(
          `looking for statements a killed restore of ${journal.database} left running`,
          err,
          connection,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return ended;
  });
}
