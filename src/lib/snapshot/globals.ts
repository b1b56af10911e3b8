import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import { libpqEnvironment } from "../pg/libpq-env";
import { runPgTool, toolFailed } from "../pg/tools";
import { digestSnapshot } from "./digest";

export interface GlobalsRequest {
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  /** Must not exist yet; pg_dumpall writes and fsyncs it. */
  readonly file: string;
  /**
   * Whether role password hashes are saved. Default off: a hash in a backup is an offline guessing target, and
   * reading them needs a superuser (pg_authid); restored roles then need their passwords set again.
   */
  readonly withRolePasswords: boolean;
  readonly signal?: AbortSignal;
}

export interface GlobalsOutcome {
  readonly sha256: string;
  readonly bytes: number;
  readonly ms: number;
}

/** `pg_dumpall --globals-only`: roles, their memberships and settings, and tablespaces, as SQL. */
export async function dumpGlobals(request: GlobalsRequest): Promise<GlobalsOutcome> {
  const started = Date.now();
  const args = [
    "--no-password", // fail instead of prompting on a terminal when PG_DSN has no password
    "--globals-only",
    // pg_dumpall ignores PGDATABASE and tries postgres, then template1; the DSN's database is known to answer.
    `--database=${request.connection.database}`,
    `--file=${request.file}`,
  ];
  if (!request.withRolePasswords) args.push("--no-role-passwords");
  const run = await runPgTool("pg_dumpall", args, {
    env: libpqEnvironment(request.connection, request.parentEnv),
    signal: request.signal,
  });
  if (request.signal?.aborted) throw request.signal.reason ?? new OperationFailed("the snapshot was interrupted");
  if (run.code !== 0) {
    const failed = toolFailed("dumping the roles and tablespaces", "pg_dumpall", run, request.connection);
    if (request.withRolePasswords && /pg_authid/.test(run.stderr)) {
      failed.message +=
        "\nfix: --with-role-passwords reads pg_authid, which only a superuser may; leave it out to save the roles without passwords";
    }
    throw failed;
  }
  const digest = await digestSnapshot(request.file);
  return { sha256: digest.sha256, bytes: digest.bytes, ms: Date.now() - started };
}
