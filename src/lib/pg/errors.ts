import { OperationFailed } from "../errors";
import { redactSecrets } from "../redact";
import { PG_DSN_ENV, PgConnection, describeConnection, secretsOf } from "./connection";

interface Diagnosis {
  readonly reason: string;
  /** Absent when the error is not one of the common ones; the caller adds what fits its context. */
  readonly fix?: string;
}

/** SQLSTATEs and socket errors seen when connecting, with what the operator can do about each. */
function diagnose(err: unknown, connection: PgConnection): Diagnosis {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const where = `${connection.host}:${connection.port}`;
  switch (e.code) {
    case "28P01":
      return { reason: message, fix: `check the user and password in ${PG_DSN_ENV}` };
    case "28000":
      return {
        reason: message,
        fix: `the server's pg_hba.conf refuses this user/host/database; ask the DBA to allow it or change ${PG_DSN_ENV}`,
      };
    case "3D000":
      return { reason: message, fix: `check the database name (the URL path) in ${PG_DSN_ENV}` };
    case "42501":
      return { reason: message, fix: `grant the role in ${PG_DSN_ENV} the privilege named, or use a role that has it` };
    case "53300":
      return { reason: message, fix: "the server is out of connection slots; retry later or raise max_connections" };
    case "57P03":
      return { reason: message, fix: "the server is starting up or shutting down; retry in a moment" };
    case "55006":
      return { reason: message, fix: "close the other sessions on that database (or wait for them to end) and retry" };
    case "ECONNREFUSED":
      return {
        reason: `nothing accepts connections at ${where}`,
        fix: `check the host and port in ${PG_DSN_ENV} and that the server is running`,
      };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { reason: `host '${connection.host}' does not resolve`, fix: `check the host in ${PG_DSN_ENV}` };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ETIMEDOUT":
      return {
        reason: `${where} is unreachable (${e.code})`,
        fix: "check the network path and firewalls to the server",
      };
    default:
      break;
  }
  if (/connection timeout|timeout expired/i.test(message)) {
    return {
      reason: `no answer from ${where} in time`,
      fix: `check the host and port in ${PG_DSN_ENV}, the network path and that the server is running`,
    };
  }
  if (/does not support SSL/i.test(message)) {
    return {
      reason: message,
      fix: `the server has no TLS: set sslmode=disable or prefer in ${PG_DSN_ENV}, or enable ssl on the server`,
    };
  }
  if (/certificate|self[- ]signed|SSL|TLS/i.test(message)) {
    return { reason: message, fix: `check sslmode and sslrootcert in ${PG_DSN_ENV} against the server's certificate` };
  }
  return { reason: message };
}

/** A connection failure as an OperationFailed (exit 1) naming the target and the fix, with secrets removed. */
export function connectFailed(err: unknown, connection: PgConnection): OperationFailed {
  const { reason, fix = `check ${PG_DSN_ENV} and that the server is running` } = diagnose(err, connection);
  const text = `cannot connect to PostgreSQL as ${describeConnection(connection)}: ${reason}; ${fix}`;
  return new OperationFailed(redactSecrets(text, secretsOf(connection)));
}

/** A failed statement as an OperationFailed naming what was being done, with secrets removed. */
export function queryFailed(what: string, err: unknown, connection: PgConnection): OperationFailed {
  const { reason, fix } = diagnose(err, connection);
  const text = `${what} failed on ${describeConnection(connection)}: ${reason}${fix === undefined ? "" : `; ${fix}`}`;
  return new OperationFailed(redactSecrets(text, secretsOf(connection)));
}

/**
 * A fix for a libpq error printed by pg_dump, pg_restore or psql, found by the message libpq uses; undefined
 * when the message is not one of the common connection problems.
 */
export function libpqHint(stderr: string): string | undefined {
  if (/password authentication failed|no password supplied/i.test(stderr))
    return `check the user and password in ${PG_DSN_ENV}`;
  if (/database ".*" does not exist/i.test(stderr)) return `check the database name (the URL path) in ${PG_DSN_ENV}`;
  if (/Connection refused|could not connect|timeout expired|could not translate host name/i.test(stderr)) {
    return `check the host and port in ${PG_DSN_ENV} and that the server is running`;
  }
  if (/no pg_hba\.conf entry/i.test(stderr))
    return "the server's pg_hba.conf refuses this connection; ask the DBA to allow it";
  if (/server version mismatch|unsupported version/i.test(stderr)) {
    return "install PostgreSQL client tools of the server's (or the dump's) major version and put them first on PATH";
  }
  if (/permission denied|must be owner|must be superuser/i.test(stderr)) {
    return `the role in ${PG_DSN_ENV} lacks a privilege named above; grant it or use a role that has it`;
  }
  return undefined;
}
