import { childEnvironment } from "../child-env";
import type { PgConnection } from "./connection";

/** The application_name the server shows for the runbook's connections unless PG_DSN sets one. */
export const DEFAULT_APPLICATION_NAME = "runbook";

/** Seconds libpq waits for a connection unless PG_DSN sets connect_timeout (libpq's default is forever). */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

/**
 * The environment for pg_dump, pg_restore or psql: the connection travels in libpq's own variables so that no
 * connection string, and above all no password, ever appears on a command line (`ps`, /proc/PID/cmdline).
 */
export function libpqEnvironment(connection: PgConnection, parentEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // Only the inherited basics from the parent: a stray PGSERVICE or PGPASSFILE would add to the DSN's facts.
  const env = childEnvironment(parentEnv);
  env.PGHOST = connection.host;
  env.PGPORT = String(connection.port);
  env.PGUSER = connection.user;
  env.PGDATABASE = connection.database;
  if (connection.password !== undefined) env.PGPASSWORD = connection.password;
  if (connection.sslmode !== undefined) env.PGSSLMODE = connection.sslmode;
  if (connection.sslrootcert !== undefined) env.PGSSLROOTCERT = connection.sslrootcert;
  if (connection.sslcert !== undefined) env.PGSSLCERT = connection.sslcert;
  if (connection.sslkey !== undefined) env.PGSSLKEY = connection.sslkey;
  if (connection.options !== undefined) env.PGOPTIONS = connection.options;
  env.PGAPPNAME = connection.applicationName ?? DEFAULT_APPLICATION_NAME;
  env.PGCONNECT_TIMEOUT = String(connection.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS);
  return env;
}
