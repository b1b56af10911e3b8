import type { PgConnection } from "../pg/connection";
import { libpqEnvironment } from "../pg/libpq-env";
import { startPgTool, toolFailed } from "../pg/tools";
import type { LoadedSnapshot } from "../snapshot/check-snapshot";

/** Parallel pg_restore workers for a directory-format snapshot (measured: 2 on the 2-core machines). */
const RESTORE_JOBS = 2;

/**
 * pg_restore of the snapshot into the (empty, freshly created) database named by `connection`, stopping at
 * the first error so that a failed restore is never mistaken for a good one.
 */
export async function restoreArchive(
  connection: PgConnection,
  snapshot: LoadedSnapshot,
  parentEnv: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<void> {
  const args = [
    "--no-password",
    "--exit-on-error",
    // pg_restore needs --dbname to connect at all; as a conninfo naming only the database, a name with '=' in
    // it stays a name, and everything else (host, user, password) still comes from libpq's environment.
    `--dbname=dbname=${conninfoQuote(connection.database)}`,
    ...(snapshot.manifest.format === "directory" ? [`--jobs=${RESTORE_JOBS}`] : []),
    snapshot.path,
  ];
  const running = startPgTool("pg_restore", args, {
    env: libpqEnvironment(connection, parentEnv),
    stdout: "ignore",
    signal,
  });
  const exit = await running.exited;
  if (signal?.aborted) throw signal.reason;
  if (exit.code !== 0) {
    throw toolFailed(
      `restoring ${snapshot.path} into the scratch database ${connection.database}`,
      "pg_restore",
      exit,
      connection,
    );
  }
}

/** A libpq conninfo value in single quotes, with backslash and quote escaped. */
function conninfoQuote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
