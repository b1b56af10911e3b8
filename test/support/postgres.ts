/**
 * The PostgreSQL server of test/services/postgres.sh, and what the integration tests do with it: fresh
 * databases with unique names, a seed with several kinds of data, per-table fingerprints to compare copies,
 * and the compiled `runbook` CLI run as a child process.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";

export const PG_HOST = "127.0.0.1";
export const PG_PORT = 55432;
export const ADMIN = { user: "runbook_admin", password: "runbook-test-pw" } as const;
/** A role without CREATEDB or superuser. */
export const APP = { user: "runbook_app", password: "app-test-pw" } as const;

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const START_HINT = "run `bash test/services/postgres.sh start`";

/** A PG_DSN for a database on the test server; user and password are percent-encoded as a DSN requires. */
export function dsnFor(database: string, credentials: Credentials = ADMIN, port: number = PG_PORT): string {
  const user = encodeURIComponent(credentials.user);
  return `postgres://${user}:${encodeURIComponent(credentials.password)}@${PG_HOST}:${port}/${encodeURIComponent(database)}`;
}

async function connect(database: string, credentials: Credentials = ADMIN): Promise<Client> {
  const client = new Client({
    host: PG_HOST,
    port: PG_PORT,
    user: credentials.user,
    password: credentials.password,
    database,
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  return client;
}

/** Runs statements on a database and returns the last result's rows. */
export async function query<T = Record<string, unknown>>(
  database: string,
  sql: string,
  params: unknown[] = [],
  credentials: Credentials = ADMIN,
): Promise<T[]> {
  const client = await connect(database, credentials);
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Throws (so the test fails, not skips) when the test server is down. */
export async function requirePostgres(): Promise<void> {
  try {
    await query("postgres", "select 1");
  } catch (err) {
    throw new Error(
      `the test PostgreSQL at ${PG_HOST}:${PG_PORT} is not reachable (${(err as Error).message}); ${START_HINT}`,
    );
  }
}

let counter = 0;

/**
 * A restore names its databases `<name>_pre_restore_<15 chars of time>` and shortens <name> when that would
 * pass PostgreSQL's 63 bytes; test names stay short enough for dropDatabase() to find them by prefix.
 */
const MAX_TEST_DATABASE_NAME = 63 - "_pre_restore_20240101_120000".length;

/** Creates an empty database with a unique name (prefix + pid + counter + time), owned by `owner`. */
export async function createDatabase(prefix: string, owner: string = ADMIN.user): Promise<string> {
  const name = `${prefix}_${process.pid}_${++counter}_${(Date.now() % 1e7).toString(36)}`;
  if (name.length > MAX_TEST_DATABASE_NAME) throw new Error(`test database prefix ${prefix} is too long`);
  const admin = await connect("postgres");
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} OWNER ${admin.escapeIdentifier(owner)}`);
  } finally {
    await admin.end();
  }
  return name;
}

/** Drops a database and whatever restores made from its name (`<name>_restore_*`, `<name>_pre_restore_*`). */
export async function dropDatabase(name: string): Promise<void> {
  const admin = await connect("postgres");
  try {
    const { rows } = await admin.query(
      "select datname from pg_database where datname = $1 or starts_with(datname, $1 || '_restore_') or starts_with(datname, $1 || '_pre_restore_')",
      [name],
    );
    for (const row of rows)
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(row.datname)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * The database and those a restore would make from its name (`<name>_restore_*`, `<name>_pre_restore_*`);
 * other tests share the server, so a test compares only these.
 */
export async function databasesNamedAfter(name: string): Promise<string[]> {
  const rows = await query<{ datname: string }>(
    "postgres",
    "select datname from pg_database where datname = $1 or starts_with(datname, $1 || '_') order by 1",
    [name],
  );
  return rows.map((r) => r.datname);
}

/**
 * Several kinds of data: jsonb, text with quotes/newlines/non-ASCII, timestamps, numerics, a foreign key, an
 * identity column, a standalone sequence advanced past its start, a view and a schema_migrations table.
 */
export async function seedDatabase(database: string, credentials: Credentials = ADMIN): Promise<void> {
  await query(
    database,
    `
    create table accounts (
      id serial primary key, email text not null unique, display_name text, balance numeric(12,2),
      profile jsonb not null, created_at timestamptz not null);
    insert into accounts (email, display_name, balance, profile, created_at)
      select 'user' || g || '@example.com', 'Zoë ''O''Brien #' || g || E'\\nline two', (g * 7.31)::numeric(12,2),
             jsonb_build_object('plan', (array['starter','enterprise'])[1 + g % 2], 'tags', jsonb_build_array('a', g, g % 3 = 0),
                                'address', jsonb_build_object('city', 'Zürich', 'zip', 8000 + g)),
             timestamptz '2024-01-01 00:00:00+00' + g * interval '37 minutes'
        from generate_series(1, 2000) g;
    create table events (
      id bigint generated by default as identity primary key, account_id int not null references accounts(id),
      kind text not null, payload jsonb not null, occurred_at timestamptz not null);
    insert into events (account_id, kind, payload, occurred_at)
      select 1 + g % 2000, (array['login','upload','share','delete'])[1 + g % 4],
             jsonb_build_object('ip', '10.0.' || (g % 256) || '.' || (g % 250), 'bytes', g * 1021, 'ok', g % 7 <> 0, 'h', md5(g::text)),
             timestamptz '2024-02-01 00:00:00+00' + g * interval '1 minute'
        from generate_series(1, 10000) g;
    create index events_account_idx on events (account_id);
    create table documents (id serial primary key, title text not null, body text not null);
    insert into documents (title, body)
      select 'Doc ' || g, repeat(md5(g::text) || ' lorem ipsum dolor ' || chr(10), 1 + g % 40)
        from generate_series(1, 500) g;
    create sequence invoice_number_seq start 1000;
    select setval('invoice_number_seq', 4242);
    create table schema_migrations (version text primary key, applied_at timestamptz not null default now());
    insert into schema_migrations (version) values ('20240101_init'), ('20240315_events');
    create view active_accounts as select id, email from accounts where balance > 100;
    `,
    [],
    credentials,
  );
}

export interface TableFingerprint {
  readonly rows: number;
  readonly md5: string;
}

/** Row count and md5 of the sorted rows of every user table, plus every sequence's position. */
export async function fingerprint(database: string): Promise<Record<string, TableFingerprint | string>> {
  const client = await connect(database);
  try {
    const out: Record<string, TableFingerprint | string> = {};
    const tables = await client.query(
      `select format('%I.%I', n.nspname, c.relname) as name, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'S') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
        order by 1`,
    );
    for (const { name, relkind } of tables.rows) {
      if (relkind === "S") {
        const { rows } = await client.query(`select last_value, is_called from ${name}`);
        out[name] = `sequence ${rows[0].last_value} ${rows[0].is_called}`;
      } else {
        const { rows } = await client.query(
          `select count(*)::int as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5 from ${name} t`,
        );
        out[name] = { rows: rows[0].rows, md5: rows[0].md5 };
      }
    }
    return out;
  } finally {
    await client.end();
  }
}

let build: Promise<void> | undefined;

/** Compiles the CLI once per test run (the CLI runs from dist/, as in production). */
export function buildCli(): Promise<void> {
  build ??= promisify(execFile)(
    process.execPath,
    [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: REPO_ROOT,
    },
  ).then(
    () => undefined,
    (err: { stdout?: string; stderr?: string }) => {
      // Type errors elsewhere still emit JavaScript; only a missing entry point stops the tests.
      if (!fs.existsSync(path.join(REPO_ROOT, "dist", "src", "cli", "main.js"))) {
        throw new Error(`tsc -p tsconfig.build.json failed: ${err.stdout ?? ""}${err.stderr ?? ""}`);
      }
    },
  );
  return build;
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The parsed stdout when it is one JSON object. */
  readonly json?: Record<string, unknown>;
  readonly pid: number;
}

export interface CliOptions {
  /** Extra environment on top of PATH/HOME/LANG; PG_DSN goes here. */
  readonly env?: NodeJS.ProcessEnv;
  /** Directories put in front of PATH (e.g. a pg_dump wrapper). */
  readonly pathPrefix?: string[];
  /** Called with the CLI's pid once it has started. */
  readonly onStart?: (pid: number) => void;
}

/** Runs `node bin/runbook.js ...args` with a minimal environment. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = {
    PATH: [...(options.pathPrefix ?? []), process.env.PATH ?? "/usr/bin:/bin"].join(path.delimiter),
    HOME: process.env.HOME ?? os.homedir(),
    LANG: "C.UTF-8",
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin", "runbook.js"), ...args], {
      env,
      cwd: REPO_ROOT,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    if (child.pid !== undefined) options.onStart?.(child.pid);
    child.once("close", (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json, pid: child.pid ?? -1 });
    });
  });
}

const tempDirs: string[] = [];

/** A fresh temporary directory for one test; removeTempDirs() deletes them all. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A directory with a `NAME` script that records each call's argv and the names of its environment variables
 * in LOG, then runs the real tool (or does what `body` says). Put it first on PATH.
 */
export function toolWrapper(tool: string, body?: string): { binDir: string; log: string } {
  const dir = tempDir(`wrap-${tool}`);
  const log = path.join(dir, "calls.log");
  const script = [
    "#!/bin/bash",
    `log='${log}'`,
    // argv, NUL-separated, then the environment's variable names (never values); the record is appended with
    // one write, so calls running at the same time (the CLI checks --version alongside the dump) do not interleave
    `rec=$(mktemp)`,
    `{ printf 'ARGV'; printf '\\0%s' "$@"; printf '\\nENV %s\\n' "$(compgen -e | tr '\\n' ' ')"; } > "$rec"`,
    `cat "$rec" >> "$log"; rm -f "$rec"`,
    body ?? `exec '${realTool(tool)}' "$@"`,
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, tool), script, { mode: 0o755 });
  return { binDir: dir, log };
}

export interface RecordedCall {
  readonly argv: string[];
  readonly envNames: string[];
}

export function recordedCalls(log: string): RecordedCall[] {
  if (!fs.existsSync(log)) return [];
  const lines = fs.readFileSync(log, "utf8").split(/\n(?=ARGV)/);
  return lines
    .filter((l) => l.startsWith("ARGV"))
    .map((entry) => {
      const [argvPart, envPart = ""] = entry.split("\nENV ");
      return { argv: argvPart.split("\0").slice(1), envNames: envPart.trim().split(/\s+/) };
    });
}

/** The real path of a PostgreSQL client tool, for wrappers that run it. */
export function realTool(tool: string): string {
  const found = ["/usr/bin", "/usr/local/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
  if (found === undefined) throw new Error(`${tool} is not installed; ${START_HINT}`);
  return found;
}

/**
 * Sends SIGTERM to a running CLI once `ready` holds (polled; at most `timeoutMs`) and `settleMs` more have
 * passed, and returns how the CLI ended.
 */
export async function sigtermWhen(
  running: Promise<CliRun>,
  pid: () => number,
  ready: () => boolean,
  { settleMs = 0, timeoutMs = 20_000 }: { settleMs?: number; timeoutMs?: number } = {},
): Promise<CliRun> {
  const deadline = Date.now() + timeoutMs;
  while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, settleMs));
  process.kill(pid(), "SIGTERM");
  return running;
}
