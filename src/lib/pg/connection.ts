import os from "node:os";
import { parse } from "pg-connection-string";
import { UsageError } from "../errors";

/** The environment variable that carries the database connection string; never a command-line flag. */
export const PG_DSN_ENV = "PG_DSN";

const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** URL query parameters the runbook passes on to libpq and node-postgres; any other is refused, not dropped. */
const KNOWN_PARAMETERS = new Set([
  "sslmode",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "application_name",
  "connect_timeout",
  "options",
  "host",
  "port",
  "user",
  "password",
]);

const DSN_SHAPE =
  "postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE (percent-encode special characters in USER and PASSWORD, e.g. with encodeURIComponent)";

/** Where and as whom to connect, parsed from PG_DSN. The password goes only to node-postgres and libpq's env. */
export interface PgConnection {
  /** Host name, IP address, or the directory of a Unix socket. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  readonly sslmode?: SslMode;
  readonly sslrootcert?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
  readonly applicationName?: string;
  readonly connectTimeoutSeconds?: number;
  /** libpq `options` (e.g. `-c search_path=app`). */
  readonly options?: string;
}

/** Who and where, without the password: fit for manifests, logs and messages. */
export interface ConnectionFacts {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** Reads PG_DSN; a missing or unparsable value is a UsageError (exit 2) whose message never quotes it. */
export function connectionFromEnv(env: NodeJS.ProcessEnv): PgConnection {
  const dsn = env[PG_DSN_ENV];
  if (dsn === undefined || dsn.trim() === "") {
    throw new UsageError(`${PG_DSN_ENV} is not set: export ${PG_DSN_ENV}=${DSN_SHAPE}`);
  }
  return parsePgDsn(dsn);
}

/** Parses a postgres:// URL into a PgConnection; errors name the problem, never the value. */
export function parsePgDsn(dsn: string): PgConnection {
  const trimmed = dsn.trim();
  if (!/^postgres(ql)?:\/\//i.test(trimmed)) {
    throw new UsageError(`${PG_DSN_ENV} is not a postgres:// URL: set it to ${DSN_SHAPE}`);
  }
  let raw: Record<string, unknown>;
  try {
    // useLibpqCompat keeps the library from printing its sslmode deprecation warning on stderr.
    raw = parse(trimmed, { useLibpqCompat: true }) as Record<string, unknown>;
  } catch (err) {
    const reason = err instanceof Error && !err.message.includes(trimmed) ? ` (${err.message})` : "";
    throw new UsageError(`${PG_DSN_ENV} cannot be parsed${reason}: set it to ${DSN_SHAPE}`);
  }
  const unknown = queryParameterNames(trimmed).filter((name) => !KNOWN_PARAMETERS.has(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `${PG_DSN_ENV} has parameter(s) ${unknown.map((n) => `'${n}'`).join(", ")} that the runbook does not pass on to ` +
        `pg_dump and pg_restore: remove them (supported: ${[...KNOWN_PARAMETERS].join(", ")})`,
    );
  }
  const text = (key: string): string | undefined => {
    const value = raw[key];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const host = text("host");
  if (host === undefined) throw new UsageError(`${PG_DSN_ENV} names no host: set it to ${DSN_SHAPE}`);
  const database = text("database");
  if (database === undefined) {
    throw new UsageError(`${PG_DSN_ENV} names no database (the URL path): set it to ${DSN_SHAPE}`);
  }
  const port = parsePort(text("port"));
  const sslmode = text("sslmode");
  if (sslmode !== undefined && !(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw new UsageError(`${PG_DSN_ENV} has sslmode '${sslmode}': use one of ${SSL_MODES.join(", ")}`);
  }
  const connectTimeout = text("connect_timeout");
  if (connectTimeout !== undefined && !/^\d+$/.test(connectTimeout)) {
    throw new UsageError(`${PG_DSN_ENV} has connect_timeout '${connectTimeout}': use a whole number of seconds`);
  }
  return {
    host,
    port,
    user: text("user") ?? os.userInfo().username,
    password: text("password"),
    database,
    sslmode: sslmode as SslMode | undefined,
    sslrootcert: text("sslrootcert"),
    sslcert: text("sslcert"),
    sslkey: text("sslkey"),
    applicationName: text("application_name"),
    connectTimeoutSeconds: connectTimeout === undefined ? undefined : Number(connectTimeout),
    options: text("options"),
  };
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 5432;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new UsageError(`${PG_DSN_ENV} has port '${value}': use a number from 1 to 65535`);
  }
  return port;
}

function queryParameterNames(dsn: string): string[] {
  try {
    return [...new URL(dsn).searchParams.keys()];
  } catch {
    // pg-connection-string accepted it (e.g. no host before a `?host=` parameter); read the query by hand.
    const query = dsn.split("#")[0].split("?")[1];
    return query === undefined ? [] : [...new URLSearchParams(query).keys()];
  }
}

/** The same server and credentials, another database (e.g. `postgres` for CREATE/ALTER DATABASE). */
export function withDatabase(connection: PgConnection, database: string): PgConnection {
  return { ...connection, database };
}

export function connectionFacts(connection: PgConnection): ConnectionFacts {
  return { host: connection.host, port: connection.port, database: connection.database, user: connection.user };
}

/** `user@host:port/database`, for messages. */
export function describeConnection(connection: PgConnection): string {
  return `${connection.user}@${connection.host}:${connection.port}/${connection.database}`;
}

/** An env-shaped object holding the connection's secrets, for src/lib/redact.ts. */
export function secretsOf(connection: PgConnection): NodeJS.ProcessEnv {
  return connection.password === undefined ? {} : { PGPASSWORD: connection.password };
}
