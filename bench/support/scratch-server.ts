/**
 * A second, empty PostgreSQL cluster for the restore benchmark: restoring a server means creating its databases
 * and roles, which cannot be done on the shared test server where they already exist (and other suites run).
 * Same binaries and settings as test/services/postgres.sh, its own (free) port and data directory; wiped between runs
 * so that every restore starts from an empty server, and removed at the end.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Client } from "pg";
import { ADMIN, PG_HOST } from "../../test/support/postgres";

/** Set by startScratchServer: a port nothing listened on (other suites run their own servers too). */
export let scratchPort = 0;
const STATE_DIR = path.join(process.env.RUNBOOK_TEST_STATE ?? "/tmp/release-runbook-test", "bench-restore-server");
const DATA_DIR = path.join(STATE_DIR, "pg");
const SOCKET_DIR = path.join(STATE_DIR, "socket");
/** Roles initdb and the setup make; everything else is the restores' and is dropped between runs. */
const BOOTSTRAP_ROLES = ["postgres", ADMIN.user];

function pgBin(): string {
  const versions = fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(a) - Number(b));
  return path.join("/usr/lib/postgresql", versions[versions.length - 1], "bin");
}

function asPostgres(command: string, args: string[]): void {
  execFileSync("runuser", ["-u", "postgres", "--", path.join(pgBin(), command), ...args], { stdio: "ignore" });
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, PG_HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startScratchServer(): Promise<number> {
  stopScratchServer();
  scratchPort = await freePort();
  fs.rmSync(STATE_DIR, { recursive: true, force: true });
  fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  execFileSync("install", ["-d", "-o", "postgres", "-g", "postgres", "-m", "700", DATA_DIR]);
  execFileSync("install", ["-d", "-o", "postgres", "-g", "postgres", "-m", "755", SOCKET_DIR]);
  asPostgres("initdb", [
    "-D",
    DATA_DIR,
    "-U",
    "postgres",
    "--encoding=UTF8",
    "--locale=C.UTF-8",
    "--auth-local=peer",
    "--auth-host=scram-sha-256",
  ]);
  fs.appendFileSync(
    path.join(DATA_DIR, "postgresql.conf"),
    [
      `port = ${scratchPort}`,
      `listen_addresses = '${PG_HOST}'`,
      `unix_socket_directories = '${SOCKET_DIR}'`,
      "shared_buffers = 256MB",
      "max_wal_size = 4GB",
      "",
    ].join("\n"),
  );
  asPostgres("pg_ctl", ["-D", DATA_DIR, "-l", path.join(DATA_DIR, "log"), "-w", "-t", "60", "start"]);
  execFileSync(
    "runuser",
    [
      "-u",
      "postgres",
      "--",
      path.join(pgBin(), "psql"),
      "-qX",
      "-h",
      SOCKET_DIR,
      "-p",
      String(scratchPort),
      "-d",
      "postgres",
      "-c",
      `create role ${ADMIN.user} login superuser password '${ADMIN.password}'`,
    ],
    { stdio: "ignore" },
  );
  return scratchPort;
}

export function stopScratchServer(): void {
  if (!fs.existsSync(path.join(DATA_DIR, "postmaster.pid"))) return;
  try {
    asPostgres("pg_ctl", ["-D", DATA_DIR, "-m", "fast", "-w", "stop"]);
  } catch {
    // already stopped
  }
}

export function removeScratchServer(): void {
  stopScratchServer();
  fs.rmSync(STATE_DIR, { recursive: true, force: true });
}

/** Back to an empty server: every database but postgres and the templates, and every role but initdb's, gone. */
export async function wipeScratchServer(): Promise<void> {
  const client = new Client({
    host: PG_HOST,
    port: scratchPort,
    user: ADMIN.user,
    password: ADMIN.password,
    database: "postgres",
  });
  await client.connect();
  try {
    const dbs = await client.query<{ datname: string }>(
      "select datname from pg_database where not datistemplate and datname <> 'postgres'",
    );
    for (const { datname } of dbs.rows) {
      await client.query(`drop database ${client.escapeIdentifier(datname)} with (force)`);
    }
    const roles = await client.query<{ rolname: string }>(
      "select rolname from pg_roles where rolname <> all($1) and rolname not like 'pg\\_%'",
      [BOOTSTRAP_ROLES],
    );
    for (const { rolname } of roles.rows) {
      await client.query(`drop owned by ${client.escapeIdentifier(rolname)} cascade`);
      await client.query(`drop role ${client.escapeIdentifier(rolname)}`);
    }
  } finally {
    await client.end();
  }
}
