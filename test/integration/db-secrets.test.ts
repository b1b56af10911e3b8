import assert from "node:assert/strict";
import fs from "node:fs";
import {
  ADMIN,
  PG_HOST,
  PG_PORT,
  dsnFor,
  fingerprint,
  query,
  realTool,
  recordedCalls,
  runCli,
  tempDir,
  toolWrapper,
} from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";

/** A password that would run `touch` if any shell ever saw it unquoted. */
const HOSTILE_PASSWORD = `p$(touch /tmp/pwned-x)'"`;
const PWNED_FILE = "/tmp/pwned-x";
const HOSTILE_ROLE = "runbook_meta";

/** Every process's command line, sampled until `until` settles: what `ps` could have shown meanwhile. */
async function sampleCommandLines<T>(until: Promise<T>): Promise<{ result: T; lines: Set<string> }> {
  const lines = new Set<string>();
  let done = false;
  const finished = until.finally(() => (done = true));
  while (!done) {
    for (const pid of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
      try {
        lines.add(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "));
      } catch {
        // the process exited between readdir and read
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { result: await finished, lines };
}

describe("secrets stay out of argv and output (integration, real PostgreSQL)", function () {
  this.timeout(120_000);
  const { seeded } = postgresSuite();
  let source: string;

  before(async () => {
    source = await seeded("rr_secrets");
  });

  after(async () => {
    await query("postgres", `DROP ROLE IF EXISTS ${HOSTILE_ROLE}`);
  });

  it("fails with exit 1 on a wrong password and never prints it", async () => {
    const wrongPassword = "wrong-Secret-7f3a9";
    const good = tempDir("sec-goodsnap");
    const snap = await runCli(["snapshot", "--out-dir", good, "--json"], { env: { PG_DSN: dsnFor(source) } });
    assert.equal(snap.code, 0, snap.stderr);
    const outDir = tempDir("sec-wrongpw");
    const dsn = dsnFor(source, { user: ADMIN.user, password: wrongPassword });
    for (const args of [
      ["snapshot", "--out-dir", outDir],
      ["snapshot", "--out-dir", outDir, "--json"],
      ["restore", "--snapshot", String(snap.json!.path), "--yes"],
      ["restore", "--snapshot", String(snap.json!.path), "--yes", "--json"],
    ]) {
      const run = await runCli(args, { env: { PG_DSN: dsn } });
      const said = run.stdout + run.stderr;
      assert.equal(run.code, 1, said);
      assert.match(said, /password authentication failed for user "runbook_admin"/);
      assert.match(said, /check the user and password in PG_DSN/);
      assert.ok(!said.includes(wrongPassword), `password printed by ${args.join(" ")}`);
      assert.ok(!said.includes(encodeURIComponent(wrongPassword)));
      assert.ok(!said.includes(dsn), "DSN printed");
    }
    assert.deepEqual(fs.readdirSync(outDir), []);
    assert.equal(fs.readdirSync(good).length, 2, "the failed restores took no pre-restore snapshot");
  });

  it("gives pg_dump the connection through libpq variables, never on a command line", async () => {
    const outDir = tempDir("sec-argv");
    const dsn = dsnFor(source);
    // The pause keeps pg_dump around long enough for the sampler to see every process involved.
    const wrapper = toolWrapper("pg_dump", `[[ "$1" == --version ]] || sleep 0.5\nexec '${realTool("pg_dump")}' "$@"`);
    const { result: run, lines } = await sampleCommandLines(
      runCli(["snapshot", "--out-dir", outDir, "--json"], { env: { PG_DSN: dsn }, pathPrefix: [wrapper.binDir] }),
    );
    assert.equal(run.code, 0, run.stderr);
    const dumps = recordedCalls(wrapper.log).filter((c) => !c.argv.includes("--version"));
    assert.equal(dumps.length, 1);
    const argv = dumps[0].argv.join(" ");
    for (const secret of [ADMIN.password, dsn, "postgres://", ADMIN.user, PG_HOST]) {
      assert.ok(!argv.includes(secret), `pg_dump argv carries ${secret}: ${argv}`);
    }
    for (const name of ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"]) {
      assert.ok(dumps[0].envNames.includes(name), `pg_dump env lacks ${name}`);
    }
    assert.ok(!dumps[0].envNames.includes("PG_DSN"), "PG_DSN must not reach pg_dump");
    assert.ok(
      [...lines].some((l) => l.includes("pg_dump") && l.includes("--format=directory")),
      "the sampler saw pg_dump run",
    );
    for (const line of lines) {
      assert.ok(!line.includes(ADMIN.password), `a command line carried the password: ${line}`);
      assert.ok(!line.includes("postgres://"), `a command line carried a DSN: ${line}`);
    }
    assert.ok(!(run.stdout + run.stderr).includes(ADMIN.password));
  });

  it("works with shell metacharacters in the password and runs no shell", async () => {
    fs.rmSync(PWNED_FILE, { force: true });
    await query("postgres", `DROP ROLE IF EXISTS ${HOSTILE_ROLE}`);
    const literal = HOSTILE_PASSWORD.replace(/'/g, "''");
    await query("postgres", `CREATE ROLE ${HOSTILE_ROLE} LOGIN CREATEDB PASSWORD '${literal}'`);
    const credentials = { user: HOSTILE_ROLE, password: HOSTILE_PASSWORD };
    const db = await seeded("rr_hostile", HOSTILE_ROLE, credentials);
    const before = await fingerprint(db);

    const outDir = tempDir("sec-hostile");
    const env = { PG_DSN: dsnFor(db, credentials) };
    for (const format of ["directory", "custom"]) {
      const snap = await runCli(
        ["snapshot", "--out-dir", outDir, "--format", format, "--name", `hostile-${format}`, "--json"],
        { env },
      );
      assert.equal(snap.code, 0, snap.stderr);
      assert.ok(!(snap.stdout + snap.stderr).includes(HOSTILE_PASSWORD));
      const restore = await runCli(["restore", "--snapshot", String(snap.json!.path), "--yes", "--json"], { env });
      assert.equal(restore.code, 0, restore.stderr);
      assert.ok(!(restore.stdout + restore.stderr).includes(HOSTILE_PASSWORD));
    }
    assert.deepEqual(await fingerprint(db), before);
    assert.ok(!fs.existsSync(PWNED_FILE), `${PWNED_FILE} was created: a shell interpreted the password`);
  });

  it("refuses an unparsable PG_DSN with exit 2 without echoing it", async () => {
    const raw = `postgres://${HOSTILE_ROLE}:${HOSTILE_PASSWORD}@${PG_HOST}:${PG_PORT}/${source}`;
    for (const dsn of [raw, "host=db user=x password=hunter22", "postgres://u:hunter22@127.0.0.1:99999/db"]) {
      const run = await runCli(["snapshot", "--out-dir", tempDir("sec-dsn")], { env: { PG_DSN: dsn } });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /PG_DSN/);
      assert.match(run.stderr, /postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE|port '99999'/);
      assert.ok(!run.stderr.includes(HOSTILE_PASSWORD) && !run.stderr.includes("hunter22"), run.stderr);
    }
    assert.ok(!fs.existsSync(PWNED_FILE));
  });

  it("requires PG_DSN and says how to set it", async () => {
    const run = await runCli(["snapshot", "--out-dir", tempDir("sec-nodsn")]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /PG_DSN is not set: export PG_DSN=postgres:\/\//);
  });
});
