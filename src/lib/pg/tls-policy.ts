import type { PgConnection, SslMode } from "./connection";

/** The stack config key whose value is the reason a protected stack may use weaker TLS; preflight's flag carries it. */
export const ALLOW_UNVERIFIED_TLS_CONFIG_KEY = "allowUnverifiedDatabaseTls";

/** What libpq does when PG_DSN names no sslmode: TLS if the server offers it, any certificate accepted. */
const LIBPQ_DEFAULT_SSLMODE: SslMode = "prefer";

export interface DatabaseTlsPolicy {
  /** A protected stack refuses a connection that does not prove the server is the host it names. */
  readonly protectedStack: boolean;
  /** Why this stack may anyway (config allowUnverifiedDatabaseTls); undefined refuses. */
  readonly allowUnverifiedReason?: string;
}

export type DatabaseTlsVerdict =
  { readonly allowed: true; readonly warning?: string } | { readonly allowed: false; readonly refusal: string };

/**
 * Only sslmode=verify-full checks that the server's certificate is signed by a trusted CA and names the host:
 * require, prefer, allow and disable accept any certificate (or none), and verify-ca accepts a certificate the
 * CA issued to any other host. Any of them lets whoever sits on the path read the password and the dump. A Unix
 * socket does not leave the machine, so there is nothing to verify. The messages name the sslmode, never the DSN.
 */
export function evaluateDatabaseTls(connection: PgConnection, policy: DatabaseTlsPolicy): DatabaseTlsVerdict {
  if (!policy.protectedStack || connection.host.startsWith("/")) return { allowed: true };
  const sslmode = connection.sslmode ?? LIBPQ_DEFAULT_SSLMODE;
  if (sslmode === "verify-full") return { allowed: true };
  const found =
    connection.sslmode === undefined
      ? `the DSN names no sslmode, so libpq uses ${LIBPQ_DEFAULT_SSLMODE}`
      : `the DSN has sslmode=${sslmode}`;
  const risk = `${found}, which does not prove that the server is ${connection.host} (only verify-full does)`;
  if (policy.allowUnverifiedReason !== undefined) {
    return {
      allowed: true,
      warning: `${risk}; allowed by ${ALLOW_UNVERIFIED_TLS_CONFIG_KEY}: ${policy.allowUnverifiedReason}`,
    };
  }
  return {
    allowed: false,
    refusal:
      `a protected stack does not connect with an unverified certificate: ${risk}. Fix: add ` +
      `sslmode=verify-full&sslrootcert=/path/to/server-ca.pem to the DSN, or, if the connection is protected ` +
      `otherwise (a local proxy that verifies the server), give the reason in the stack config: ` +
      `pulumi config set ${ALLOW_UNVERIFIED_TLS_CONFIG_KEY} "<why>"`,
  };
}
