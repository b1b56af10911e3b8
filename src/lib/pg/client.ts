import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ConnectionOptions } from "node:tls";
import { Client, ClientConfig } from "pg";
import { UsageError } from "../errors";
import { PG_DSN_ENV, PgConnection } from "./connection";
import { connectFailed } from "./errors";
import { DEFAULT_APPLICATION_NAME, DEFAULT_CONNECT_TIMEOUT_SECONDS } from "./libpq-env";

export interface ClientOptions {
  /** Bounds connecting; defaults to PG_DSN's connect_timeout or 10 s. */
  readonly connectTimeoutMs?: number;
  /** Server-side statement_timeout for every statement; default none (CREATE DATABASE may take long). */
  readonly statementTimeoutMs?: number;
}

/**
 * Connects with node-postgres using the same facts libpq gets, including libpq's sslmode meanings
 * (node-postgres on its own treats every sslmode as verify-full and knows no `prefer`).
 * Failures are OperationFailed errors that name the target and the fix and carry no password.
 */
export async function connectClient(connection: PgConnection, options: ClientOptions = {}): Promise<Client> {
  const mode = connection.sslmode ?? "prefer";
  try {
    return await connectOnce(connection, options, tlsOptions(connection, mode));
  } catch (err) {
    // `prefer` (libpq's default) falls back to plain TCP when the server has no TLS, as libpq does.
    if (mode === "prefer" && /does not support SSL/i.test(String((err as Error).message))) {
      try {
        return await connectOnce(connection, options, false);
      } catch (plainErr) {
        throw connectFailed(plainErr, connection);
      }
    }
    throw connectFailed(err, connection);
  }
}

async function connectOnce(
  connection: PgConnection,
  options: ClientOptions,
  ssl: ClientConfig["ssl"],
): Promise<Client> {
  const connectTimeoutMs =
    options.connectTimeoutMs ?? (connection.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000;
  const client = new Client({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    ssl,
    application_name: connection.applicationName ?? DEFAULT_APPLICATION_NAME,
    options: connection.options,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
  });
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

function tlsOptions(connection: PgConnection, mode: string): ClientConfig["ssl"] {
  if (mode === "disable" || mode === "allow") return false;
  const tls: ConnectionOptions = {};
  if (connection.sslcert !== undefined) tls.cert = readTlsFile(connection.sslcert, "sslcert");
  if (connection.sslkey !== undefined) tls.key = readTlsFile(connection.sslkey, "sslkey");
  const rootCert = connection.sslrootcert ?? defaultRootCert();
  if (rootCert !== undefined) tls.ca = readTlsFile(rootCert, "sslrootcert");
  if (mode === "prefer" || (mode === "require" && rootCert === undefined)) {
    // libpq: encrypt, but do not check the certificate.
    tls.rejectUnauthorized = false;
  } else if (mode === "require" || mode === "verify-ca") {
    if (rootCert === undefined) {
      throw new UsageError(
        `sslmode=verify-ca needs a CA certificate: add sslrootcert=/path/to/ca.crt to ${PG_DSN_ENV}`,
      );
    }
    // libpq: check the chain against the CA, not the host name.
    tls.checkServerIdentity = () => undefined;
  }
  return tls;
}

/** libpq's default root certificate file, used when PG_DSN names none. */
function defaultRootCert(): string | undefined {
  const file = path.join(os.homedir(), ".postgresql", "root.crt");
  return fs.existsSync(file) ? file : undefined;
}

function readTlsFile(file: string, parameter: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${parameter} file ${file} named in ${PG_DSN_ENV}: ${(err as Error).message}`);
  }
}
