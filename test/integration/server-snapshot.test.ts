import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  ADMIN,
  APP,
  PG_HOST,
  PG_PORT,
  createDatabase,
  dsnFor,
  fingerprint,
  query,
  realTool,
  recordedCalls,
  runCli,
  seedDatabase,
  sigtermWhen,
  tempDir,
  toolWrapper,
} from "../support/postgres";
import { directorySha256, filesBelow, serverSnapshotSha256, sha256File } from "../support/digests";
import { postgresSuite } from "../support/postgresSuite";
import { Client } from "pg";

async function connectAdmin(database: string): Promise<Client> {
  const client = new Client({ host: PG_HOST, port: PG_PORT, user: ADMIN.user, password: ADMIN.password, database });
  await client.connect();
  return client;
}

/**
 * The test server is shared: other suites' databases (rr_*) come and go, and the benchmarks' are large. Every
 * run here leaves them out, so "every database" means every one but those. Other work on the same machine may
 * hold the runbook lock on its own databases (an e2e sandbox's, another checkout's suites), which a snapshot of
 * them would rightly refuse: the databases already on the server when the suite starts, but postgres, are left
 * out too, by their exact names.
 */
const FIXED_EXCLUDES = ["rr_*", "runbook_bench*"];
let foreign: string[] = [];
const excludes = (): string[] => [...FIXED_EXCLUDES, ...foreign.map((name) => `"${name.replace(/"/g, '""')}"`)];
const exclude = (): string[] => excludes().flatMap((pattern) => ["--exclude-database", pattern]);
const OWNER_PASSWORD = "rs-owner-pw";

function modesBelow(dir: string): { path: string; mode: number; isDir: boolean }[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const here = { path: full, mode: fs.statSync(full).mode & 0o777, isDir: entry.isDirectory() };
    return entry.isDirectory() ? [here, ...modesBelow(full)] : [here];
  });
}

/** Connectable non-template databases on the server that the runs here do not leave out. */
async function serverDatabases(): Promise<string[]> {
  const rows = await query<{ datname: string }>(
    "postgres",
    `select datname from pg_database where datallowconn and not datistemplate
        and datname not like 'rr\\_%' and datname not like 'runbook\\_bench%' order by 1`,
  );
  return rows.map((r) => r.datname).filter((name) => !foreign.includes(name));
}

const pgEnv = {
  PATH: process.env.PATH,
  PGHOST: PG_HOST,
  PGPORT: String(PG_PORT),
  PGUSER: ADMIN.user,
  PGPASSWORD: ADMIN.password,
};

describe("runbook snapshot --all-databases (integration, real PostgreSQL)", function () {
  this.timeout(180_000);
  const { dropAfter } = postgresSuite();
  const owner = `rs_owner_${process.pid}`;
  const reader = `rs_reader_${process.pid}`;
  let governance: string;
  let assets: string;
  let keycloak: string;
  let plain: string;
  let odd: string;
  let closed: string;

  before(async () => {
    foreign = (await serverDatabases()).filter((name) => name !== "postgres");
    await query(
      "postgres",
      `create role ${owner} login password '${OWNER_PASSWORD}'; create role ${reader} nologin in role ${owner}`,
    );
    governance = await createDatabase("rs_governance", owner);
    assets = await createDatabase("rs_assets", owner);
    keycloak = await createDatabase("rs_keycloak");
    plain = await createDatabase("rs_plain");
    odd = `rs odd/"name" ${process.pid}`;
    closed = `rs_closed_${process.pid}`;
    dropAfter(governance, assets, keycloak, plain);
    await query("postgres", `create database "${odd.replace(/"/g, '""')}"`);
    await query("postgres", `create database ${closed}`);
    await query("postgres", `alter database ${closed} allow_connections false`);
    await query(
      governance,
      `create table alembic_version (version_num varchar(32) primary key);
       insert into alembic_version values ('4f2a9c1d7e30');
       create table policies (id serial primary key, body text); insert into policies (body) values ('allow');
       grant select on policies to ${reader}`,
    );
    await query(
      assets,
      `create table alembic_version (version_num varchar(32) primary key);
       insert into alembic_version values ('b81e0c55a9d2'), ('0a11ce5e7b01')`,
    );
    await query(keycloak, "create table realm (id text primary key); insert into realm values ('master')");
    await seedDatabase(plain);
  });

  after(async () => {
    await query("postgres", `alter database ${closed} allow_connections true`).catch(() => undefined);
    for (const name of [odd, closed]) {
      await query("postgres", `drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
    }
    // The suite's own after hook has dropped the databases these roles own by now.
    await query("postgres", `drop role if exists ${reader}; drop role if exists ${owner}`);
  });

  it("saves the roles without passwords and every database, with its alembic version, as one private directory", async () => {
    const outDir = path.join(tempDir("server-snap"), "out");
    const before = await serverDatabases();
    const run = await runCli(["snapshot", "--all-databases", "--out-dir", outDir, "--json", ...exclude()], {
      env: { PG_DSN: dsnFor(keycloak) },
    });
    const after = await serverDatabases();
    assert.equal(run.code, 0, run.stderr);
    const out = run.json!;
    const snapshotPath = String(out.path);
    assert.match(snapshotPath, new RegExp(`^${outDir}/all-databases-\\d{8}T\\d{6}Z$`));
    assert.deepEqual(fs.readdirSync(outDir), [path.basename(snapshotPath)], "nothing else in the out-dir");

    // every connectable non-template database that was there throughout, and nothing else
    const databases = out.databases as {
      name: string;
      sha256: string;
      bytes: number;
      schemaVersion: string | null;
      path: string;
    }[];
    const names = databases.map((d) => d.name);
    for (const name of before.filter((n) => after.includes(n))) assert.ok(names.includes(name), `${name} is missing`);
    for (const name of names) assert.ok(before.includes(name) || after.includes(name), `${name} is not a database`);
    assert.ok(names.includes("postgres"));
    assert.ok(!names.includes(closed), "a database that refuses connections is not dumped");
    assert.ok(!names.some((n) => n.startsWith("template")));

    const byName = new Map(databases.map((d) => [d.name, d]));
    assert.equal(byName.get(governance)!.schemaVersion, "4f2a9c1d7e30");
    assert.equal(byName.get(assets)!.schemaVersion, "0a11ce5e7b01,b81e0c55a9d2");
    assert.equal(byName.get(keycloak)!.schemaVersion, null);
    assert.equal(byName.get(plain)!.schemaVersion, null);
    assert.match(byName.get(odd)!.path, /\/databases\/rs_odd__name__\d+\.[0-9a-f]{8}$/);

    // digests: each database's the single-database way, the whole over every file but the manifest
    for (const database of databases) {
      assert.equal(database.sha256, directorySha256(database.path), database.name);
      const bytes = fs
        .readdirSync(database.path)
        .reduce((s, f) => s + fs.statSync(path.join(database.path, f)).size, 0);
      assert.equal(database.bytes, bytes, database.name);
    }
    assert.equal(out.sha256, serverSnapshotSha256(snapshotPath));
    const allBytes = filesBelow(snapshotPath)
      .filter((f) => f !== "manifest.json")
      .reduce((s, f) => s + fs.statSync(path.join(snapshotPath, f)).size, 0);
    assert.equal(out.bytes, allBytes);

    // the roles, without password hashes
    const globals = fs.readFileSync(path.join(snapshotPath, "globals.sql"), "utf8");
    assert.match(globals, new RegExp(`CREATE ROLE ${owner};`));
    assert.match(globals, new RegExp(`GRANT ${owner} TO ${reader}`));
    assert.doesNotMatch(globals, /SCRAM-SHA-256\$/);
    assert.doesNotMatch(globals, /PASSWORD/);

    // 0700 directories, 0600 files
    for (const entry of [
      { path: snapshotPath, mode: fs.statSync(snapshotPath).mode & 0o777, isDir: true },
      ...modesBelow(snapshotPath),
    ]) {
      assert.equal(entry.mode, entry.isDir ? 0o700 : 0o600, entry.path);
    }

    const manifest = JSON.parse(fs.readFileSync(String(out.manifestPath), "utf8"));
    assert.equal(out.manifestPath, path.join(snapshotPath, "manifest.json"));
    assert.equal(manifest.kind, "server");
    assert.equal(manifest.sha256, out.sha256);
    assert.equal(manifest.globals.sha256, sha256File(path.join(snapshotPath, "globals.sql")));
    assert.equal(manifest.globals.rolePasswords, false);
    assert.deepEqual(manifest.dumpOptions, {
      format: "directory",
      jobs: 2,
      compress: 1,
      excludedDatabases: excludes(),
    });
    const governanceEntry = manifest.databases.find((d: { name: string }) => d.name === governance);
    assert.equal(governanceEntry.properties.owner, owner);
    assert.equal(governanceEntry.schemaVersion, "4f2a9c1d7e30");
    assert.ok(governanceEntry.tocEntries > 3);
    for (const key of ["dumpMs", "hashMs", "verifyMs"]) assert.equal(typeof governanceEntry.durations[key], "number");
    for (const key of ["inspectMs", "globalsMs", "databasesMs"]) assert.equal(typeof manifest.durations[key], "number");
    assert.ok(!fs.readFileSync(String(out.manifestPath), "utf8").includes(ADMIN.password));

    // a database's dump restores to the same tables
    const copy = await createDatabase("rr_srvcopy");
    dropAfter(copy);
    execFileSync(
      realTool("pg_restore"),
      ["--exit-on-error", "--no-password", `--dbname=${copy}`, byName.get(plain)!.path],
      {
        env: pgEnv,
      },
    );
    assert.deepEqual(await fingerprint(copy), await fingerprint(plain));
  });

  it("saves the password hashes only with --with-role-passwords", async () => {
    const outDir = tempDir("server-snap-pw");
    const run = await runCli(
      [
        "snapshot",
        "--all-databases",
        "--with-role-passwords",
        "--out-dir",
        outDir,
        "--name",
        "pw",
        "--json",
        ...exclude(),
      ],
      { env: { PG_DSN: dsnFor("postgres") } },
    );
    assert.equal(run.code, 0, run.stderr);
    const globals = fs.readFileSync(path.join(outDir, "pw", "globals.sql"), "utf8");
    assert.match(globals, new RegExp(`ALTER ROLE ${owner} WITH .*PASSWORD 'SCRAM-SHA-256\\$`));
    assert.ok(!globals.includes(OWNER_PASSWORD));
    assert.equal((run.json!.globals as { rolePasswords: boolean }).rolePasswords, true);
  });

  it("refuses --with-role-passwords for a role that may not read them, naming the fix", async () => {
    const outDir = tempDir("server-snap-app");
    const run = await runCli(
      ["snapshot", "--all-databases", "--with-role-passwords", "--out-dir", outDir, ...exclude()],
      {
        env: { PG_DSN: dsnFor("postgres", APP) },
      },
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /pg_dumpall failed/);
    assert.match(run.stderr, /only a superuser may; leave it out/);
    assert.ok(!run.stderr.includes(APP.password));
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("returns an existing snapshot of the same name without dumping again", async () => {
    const outDir = tempDir("server-snap-idem");
    const args = ["snapshot", "--all-databases", "--out-dir", outDir, "--name", "idem", "--json", ...exclude()];
    const first = await runCli(args, { env: { PG_DSN: dsnFor("postgres") } });
    assert.equal(first.code, 0, first.stderr);
    const wrapper = toolWrapper("pg_dump");
    const second = await runCli(args, { env: { PG_DSN: dsnFor("postgres") }, pathPrefix: [wrapper.binDir] });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json!.reused, true);
    for (const key of ["path", "sha256", "bytes", "createdAt", "databases"]) {
      assert.deepEqual(second.json![key], first.json![key], key);
    }
    assert.deepEqual(recordedCalls(wrapper.log), [], "pg_dump must not run again");
  });

  it("leaves nothing when pg_dump fails for one database", async () => {
    const outDir = tempDir("server-snap-fail");
    const real = realTool("pg_dump");
    const wrapper = toolWrapper(
      "pg_dump",
      `[[ "$PGDATABASE" == '${plain}' ]] && { echo 'pg_dump: error: simulated failure' >&2; exit 1; }\nexec '${real}' "$@"`,
    );
    const run = await runCli(["snapshot", "--all-databases", "--out-dir", outDir, "--name", "broken", ...exclude()], {
      env: { PG_DSN: dsnFor("postgres") },
      pathPrefix: [wrapper.binDir],
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`database ${plain}: dumping the database: pg_dump failed \\(exit code 1\\)`));
    assert.match(run.stderr, /simulated failure/);
    assert.deepEqual(fs.readdirSync(outDir), [], "neither the snapshot nor its partial may be left");
  });

  it("leaves nothing when one database's pg_dump is killed mid-way", async () => {
    const outDir = tempDir("server-snap-kill");
    const pidFile = path.join(tempDir("server-snap-kill-pid"), "pid");
    const real = realTool("pg_dump");
    // pg_dump of that database blocks on the lock held below; its pid is recorded, then it is killed there.
    const wrapper = toolWrapper(
      "pg_dump",
      `[[ "$PGDATABASE" == '${plain}' ]] && echo $$ > '${pidFile}'\nexec '${real}' "$@"`,
    );
    const locker = await connectAdmin(plain);
    try {
      await locker.query("begin; lock table accounts in access exclusive mode");
      const running = runCli(["snapshot", "--all-databases", "--out-dir", outDir, "--name", "killed", ...exclude()], {
        env: { PG_DSN: dsnFor("postgres") },
        pathPrefix: [wrapper.binDir],
      });
      const deadline = Date.now() + 30_000;
      while (!fs.existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(
        fs.readdirSync(outDir).some((e) => e.startsWith(".killed.partial-")),
        "the dump was under way",
      );
      process.kill(Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL");
      const run = await running;
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`database ${plain}: dumping the database: pg_dump failed \\(signal SIGKILL\\)`),
      );
      assert.deepEqual(fs.readdirSync(outDir), [], "neither the snapshot nor its partial may be left");
    } finally {
      await locker.query("rollback").catch(() => undefined);
      await locker.end();
    }
  });

  it("leaves nothing when interrupted with SIGTERM", async () => {
    const outDir = tempDir("server-snap-term");
    const real = realTool("pg_dump");
    const wrapper = toolWrapper("pg_dump", `[[ "$PGDATABASE" == '${plain}' ]] && sleep 20\nexec '${real}' "$@"`);
    let cliPid = -1;
    const running = runCli(["snapshot", "--all-databases", "--out-dir", outDir, "--name", "term", ...exclude()], {
      env: { PG_DSN: dsnFor("postgres") },
      pathPrefix: [wrapper.binDir],
      onStart: (pid) => (cliPid = pid),
    });
    const dumpStarted = (): boolean =>
      recordedCalls(wrapper.log).some((c) => c.argv.some((a) => a.includes(`/databases/${plain}`)));
    const run = await sigtermWhen(running, () => cliPid, dumpStarted);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /interrupted by SIGTERM/);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("fails with exit 1 when every database is left out, writing nothing", async () => {
    const outDir = tempDir("server-snap-none");
    const run = await runCli(["snapshot", "--all-databases", "--out-dir", outDir, "--exclude-database", "*"], {
      env: { PG_DSN: dsnFor("postgres") },
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /there is no database to dump/);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("rejects bad usage with exit 2 and a clear message before touching anything", async () => {
    const outDir = tempDir("server-snap-usage");
    const all = ["snapshot", "--all-databases", "--out-dir", outDir];
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [
        [...all, "--format", "custom"],
        { PG_DSN: dsnFor("postgres") },
        /--all-databases writes one directory-format dump/,
      ],
      [
        [...all, "--schema-version-query", "select 1"],
        { PG_DSN: dsnFor("postgres") },
        /--schema-version-query cannot be used with --all-databases/,
      ],
      [
        [...all, "--kube-secrets", "em-runtime-secrets"],
        { PG_DSN: dsnFor("postgres") },
        /--kube-secrets needs --kube-namespace/,
      ],
      [
        all,
        { PG_DSN: dsnFor("postgres"), RUNBOOK_REDIS_URL: "http://:hunter2-pw@127.0.0.1:1" },
        /RUNBOOK_REDIS_URL has scheme 'http'/,
      ],
      [[...all, "--exclude-database", '"open'], { PG_DSN: dsnFor("postgres") }, /unterminated double quote/],
      [[...all, "--jobs", "0"], { PG_DSN: dsnFor("postgres") }, /--jobs '0' is not usable/],
      [all, {}, /PG_DSN is not set/],
      [
        ["snapshot", "--out-dir", outDir, "--with-role-passwords"],
        { PG_DSN: dsnFor("postgres") },
        /--with-role-passwords is only used with --all-databases/,
      ],
      [
        ["snapshot", "--out-dir", outDir, "--exclude-database", "x"],
        { PG_DSN: dsnFor("postgres") },
        /--exclude-database is only used with --all-databases/,
      ],
      [[...all, "--name", "../up"], { PG_DSN: dsnFor("postgres") }, /is not a usable snapshot name/],
    ];
    // No case touches the server or the out-dir, so they can run side by side.
    const runs = await Promise.all(cases.map(([args, env]) => runCli(args, { env })));
    runs.forEach((run, i) => {
      const [args, , message] = cases[i];
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(" "));
    });
    assert.deepEqual(fs.readdirSync(outDir), []);
  });
});
