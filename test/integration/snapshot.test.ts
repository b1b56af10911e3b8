import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  ADMIN,
  createDatabase,
  dsnFor,
  fingerprint,
  realTool,
  recordedCalls,
  runCli,
  sigtermWhen,
  tempDir,
  toolWrapper,
} from "../support/postgres";
import { directorySha256, sha256File } from "../support/digests";
import { postgresSuite } from "../support/postgresSuite";
import { defaultSnapshotName } from "../../src/lib/snapshot/layout";

const CONTEXT = {
  release: "alexandria-ee",
  namespace: "alexandria",
  fromTags: { api: "1.4.2" },
  toTags: { api: "1.5.0" },
  fromChartVersion: "2.3.0",
  toChartVersion: "2.4.0",
  releaseRevision: 7,
};

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** pg_restore straight into a fresh database: checks the dump itself, independently of `runbook restore`. */
async function pgRestoreInto(snapshotPath: string): Promise<string> {
  const target = await createDatabase("rr_snapcopy");
  execFileSync(realTool("pg_restore"), ["--exit-on-error", "--no-password", `--dbname=${target}`, snapshotPath], {
    env: {
      PATH: process.env.PATH,
      PGHOST: "127.0.0.1",
      PGPORT: "55432",
      PGUSER: ADMIN.user,
      PGPASSWORD: ADMIN.password,
    },
  });
  return target;
}

describe("runbook snapshot (integration, real PostgreSQL)", function () {
  this.timeout(120_000);
  const { seeded, dropAfter } = postgresSuite();
  let source: string;
  let expected: Awaited<ReturnType<typeof fingerprint>>;

  before(async () => {
    source = await seeded("rr_snapshot");
    expected = await fingerprint(source);
  });

  for (const format of ["directory", "custom"] as const) {
    it(`dumps a seeded database in ${format} format that restores to identical tables`, async () => {
      const outDir = path.join(tempDir("snap"), "out");
      const run = await runCli(
        [
          "snapshot",
          "--out-dir",
          outDir,
          "--format",
          format,
          "--name",
          `seeded-${format}`,
          "--context-json",
          JSON.stringify(CONTEXT),
          "--schema-version-query",
          "select max(version) from schema_migrations",
          "--json",
        ],
        { env: { PG_DSN: dsnFor(source) } },
      );
      assert.equal(run.code, 0, run.stderr);
      const out = run.json!;
      const snapshotPath = path.join(outDir, format === "custom" ? `seeded-${format}.dump` : `seeded-${format}`);
      assert.equal(out.path, snapshotPath);
      assert.equal(out.format, format);
      assert.equal(out.manifestPath, path.join(outDir, `seeded-${format}.manifest.json`));
      assert.equal(out.schemaVersion, "20240315_events");
      assert.match(String(out.serverVersion), /^\d+/);
      assert.equal(out.reused, false);

      // sha256 and size, recomputed the documented way
      const isDir = format === "directory";
      assert.equal(out.sha256, isDir ? directorySha256(snapshotPath) : sha256File(snapshotPath));
      const files = isDir ? fs.readdirSync(snapshotPath).map((f) => path.join(snapshotPath, f)) : [snapshotPath];
      assert.equal(
        out.bytes,
        files.reduce((sum, f) => sum + fs.statSync(f).size, 0),
      );

      // modes: 0700 directories, 0600 files, nothing else left in the out-dir
      assert.equal(mode(outDir), 0o700);
      if (isDir) assert.equal(mode(snapshotPath), 0o700);
      for (const f of files) assert.equal(mode(f), 0o600, f);
      assert.equal(mode(out.manifestPath as string), 0o600);
      assert.deepEqual(
        fs.readdirSync(outDir).sort(),
        [path.basename(snapshotPath), `seeded-${format}.manifest.json`].sort(),
      );

      const manifest = JSON.parse(fs.readFileSync(out.manifestPath as string, "utf8"));
      assert.equal(manifest.name, `seeded-${format}`);
      assert.equal(manifest.path, snapshotPath);
      assert.equal(manifest.format, format);
      assert.equal(manifest.sha256, out.sha256);
      assert.equal(manifest.bytes, out.bytes);
      assert.ok(!Number.isNaN(Date.parse(manifest.createdAt)));
      for (const key of ["dumpMs", "hashMs", "verifyMs"]) assert.equal(typeof manifest.durations[key], "number", key);
      assert.deepEqual(manifest.source, { host: "127.0.0.1", port: 55432, database: source, user: ADMIN.user });
      assert.equal(manifest.serverVersion, out.serverVersion);
      assert.ok(manifest.serverVersionNum >= 100000);
      assert.equal(manifest.schemaVersion, "20240315_events");
      assert.match(manifest.pgDumpVersion, /^\d+\.\d+/);
      assert.deepEqual(manifest.context, CONTEXT);
      assert.ok(manifest.tocEntries > 5);
      assert.ok(!fs.readFileSync(out.manifestPath as string, "utf8").includes(ADMIN.password));

      const copy = await pgRestoreInto(snapshotPath);
      dropAfter(copy);
      assert.deepEqual(await fingerprint(copy), expected);
    });
  }

  it("returns an existing snapshot of the same name without dumping again", async () => {
    const outDir = tempDir("snap-idem");
    const args = ["snapshot", "--out-dir", outDir, "--name", "idem", "--json"];
    const first = await runCli(args, { env: { PG_DSN: dsnFor(source) } });
    assert.equal(first.code, 0, first.stderr);
    const wrapper = toolWrapper("pg_dump");
    const second = await runCli(args, { env: { PG_DSN: dsnFor(source) }, pathPrefix: [wrapper.binDir] });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json!.reused, true);
    for (const key of ["path", "sha256", "bytes", "format", "createdAt", "manifestPath"]) {
      assert.deepEqual(second.json![key], first.json![key], key);
    }
    assert.deepEqual(recordedCalls(wrapper.log), [], "pg_dump must not run again");
    // It does not even need the database: a re-run when the server is unreachable still answers.
    const offline = await runCli(args, { env: { PG_DSN: dsnFor(source, ADMIN, 1) } });
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.json!.sha256, first.json!.sha256);
  });

  it("names the time in the default snapshot name and dumps again for a new name", async () => {
    const outDir = tempDir("snap-default");
    const run = await runCli(["snapshot", "--out-dir", outDir, "--json"], { env: { PG_DSN: dsnFor(source) } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(String(run.json!.path), new RegExp(`/${source}-\\d{8}T\\d{6}Z$`));
    assert.equal(run.json!.schemaVersion, null);
  });

  it("gives a second default-named snapshot within the same second a name of its own", async () => {
    const outDir = tempDir("snap-same-second");
    // Occupy the default name of every second the snapshots below can start in, as an earlier snapshot would.
    const start = Date.now();
    for (let s = 0; s < 30; s++)
      fs.mkdirSync(path.join(outDir, defaultSnapshotName(source, new Date(start + s * 1000))));
    const paths: string[] = [];
    for (let i = 0; i < 2; i++) {
      const run = await runCli(["snapshot", "--out-dir", outDir, "--json"], { env: { PG_DSN: dsnFor(source) } });
      assert.equal(run.code, 0, run.stderr);
      assert.match(String(run.json!.path), new RegExp(`/${source}-\\d{8}T\\d{6}Z-\\d+$`));
      assert.equal(run.json!.reused, false);
      paths.push(String(run.json!.path));
    }
    assert.ok(Date.now() - start < 30_000, "the snapshots outran the occupied seconds");
    assert.notEqual(paths[0], paths[1]);
  });

  for (const format of ["directory", "custom"] as const) {
    it(`removes the partial ${format} dump when pg_dump fails part-way`, async () => {
      const outDir = tempDir("snap-fail");
      // The real pg_dump writes its output, then the wrapper reports failure as a crash at the end would.
      const real = realTool("pg_dump");
      const wrapper = toolWrapper(
        "pg_dump",
        `[[ "$1" == --version ]] && exec '${real}' "$@"\n'${real}' "$@"; echo 'pg_dump: error: simulated failure' >&2; exit 1`,
      );
      const run = await runCli(["snapshot", "--out-dir", outDir, "--format", format, "--name", "broken"], {
        env: { PG_DSN: dsnFor(source) },
        pathPrefix: [wrapper.binDir],
      });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /pg_dump failed \(exit code 1\)/);
      assert.match(run.stderr, /simulated failure/);
      assert.equal(recordedCalls(wrapper.log).filter((c) => !c.argv.includes("--version")).length, 1, "pg_dump ran");
      assert.deepEqual(fs.readdirSync(outDir), [], "nothing may be left in the out-dir");
    });
  }

  it("removes the partial dump when interrupted with SIGTERM", async () => {
    const outDir = tempDir("snap-term");
    const real = realTool("pg_dump");
    const wrapper = toolWrapper(
      "pg_dump",
      `[[ "$1" == --version ]] && exec '${real}' "$@"\n'${real}' "$@"; sleep 30 & trap "kill $!; exit 143" TERM; wait`,
    );
    let cliPid = -1;
    const running = runCli(["snapshot", "--out-dir", outDir, "--name", "interrupted"], {
      env: { PG_DSN: dsnFor(source) },
      pathPrefix: [wrapper.binDir],
      onStart: (pid) => (cliPid = pid),
    });
    // Wait until the dump has been written into the partial, then interrupt.
    const partialWritten = (): boolean => fs.readdirSync(outDir).some((e) => e.startsWith(".interrupted.partial-"));
    const run = await sigtermWhen(running, () => cliPid, partialWritten, { settleMs: 500 });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /interrupted by SIGTERM/);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("runs the schema version query read-only, as one statement", async () => {
    for (const sql of [
      "select 1; commit; create table smuggled (id int)",
      "create table smuggled (id int) -- writes",
    ]) {
      const outDir = tempDir("snap-query");
      const run = await runCli(["snapshot", "--out-dir", outDir, "--schema-version-query", sql], {
        env: { PG_DSN: dsnFor(source) },
      });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /the schema version query failed: .*; fix --schema-version-query/);
      assert.deepEqual(fs.readdirSync(outDir), []);
    }
    assert.deepEqual(await fingerprint(source), expected, "the query wrote nothing");
  });

  it("refuses to reuse a snapshot name taken from another database", async () => {
    const outDir = tempDir("snap-othername");
    const first = await runCli(["snapshot", "--out-dir", outDir, "--name", "shared"], {
      env: { PG_DSN: dsnFor(source) },
    });
    assert.equal(first.code, 0, first.stderr);
    const other = await runCli(["snapshot", "--out-dir", outDir, "--name", "shared"], {
      env: { PG_DSN: dsnFor("postgres") },
    });
    assert.equal(other.code, 1);
    assert.match(
      other.stderr,
      new RegExp(
        `snapshot shared in .* is of database ${source}, not of postgres named by PG_DSN: choose another --name`,
      ),
    );
  });

  it("refuses a pg_dump older than the server, naming both versions and the fix", async () => {
    const outDir = tempDir("snap-oldtool");
    // What an old pg_dump does against a newer server: reports its version, and refuses to dump.
    const wrapper = toolWrapper(
      "pg_dump",
      `[[ "$1" == --version ]] && { echo 'pg_dump (PostgreSQL) 9.6.24'; exit 0; }\n` +
        `echo 'pg_dump: error: aborting because of server version mismatch' >&2; exit 1`,
    );
    const run = await runCli(["snapshot", "--out-dir", outDir], {
      env: { PG_DSN: dsnFor(source) },
      pathPrefix: [wrapper.binDir],
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /pg_dump 9\.6\.24 is older than the server \(PostgreSQL (\d+)[^)]*\)\)? and cannot dump it/,
    );
    assert.match(run.stderr, /apt-get install postgresql-client-\d+/);
    assert.doesNotMatch(run.stderr, /aborting because of server version mismatch/, "the refusal names the fix");
    assert.ok(
      recordedCalls(wrapper.log).some((c) => c.argv.includes("--version")),
      "the version was checked",
    );
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("fails with exit 1 and names the fix when the database does not exist, leaving nothing", async () => {
    const outDir = tempDir("snap-nodb");
    const run = await runCli(["snapshot", "--out-dir", outDir, "--json"], {
      env: { PG_DSN: dsnFor("rr_no_such_database") },
    });
    assert.equal(run.code, 1);
    assert.equal(run.json!.ok, false);
    assert.match(String(run.json!.error), /database "rr_no_such_database" does not exist/);
    assert.match(run.stderr, /check the database name/);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("fails with exit 1 and a clear message when the server is unreachable", async () => {
    const outDir = tempDir("snap-unreachable");
    const run = await runCli(["snapshot", "--out-dir", outDir], { env: { PG_DSN: dsnFor(source, ADMIN, 1) } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot connect to PostgreSQL as runbook_admin@127\.0\.0\.1:1\//);
    assert.match(run.stderr, /nothing accepts connections at 127\.0\.0\.1:1; check the host and port in PG_DSN/);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("rejects bad flags with exit 2 before touching anything", async () => {
    const outDir = tempDir("snap-usage");
    const cases: [string[], RegExp][] = [
      [["snapshot"], /--out-dir DIR is required/],
      [["snapshot", "--out-dir", outDir, "--format", "tar"], /--format 'tar' is not a format/],
      [["snapshot", "--out-dir", outDir, "--compress", "12"], /--compress '12' is not usable/],
      [
        ["snapshot", "--out-dir", outDir, "--format", "custom", "--jobs", "4"],
        /--jobs works only with --format directory/,
      ],
      [["snapshot", "--out-dir", outDir, "--name", "../escape"], /is not a usable snapshot name/],
      [["snapshot", "--out-dir", outDir, "--context-json", "[1]"], /must be a JSON object/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, { env: { PG_DSN: dsnFor(source) } });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("prints help listing every flag, PG_DSN and the exit codes", async () => {
    const run = await runCli(["snapshot", "--help"]);
    assert.equal(run.code, 0);
    for (const flag of [
      "--out-dir",
      "--format",
      "--jobs",
      "--compress",
      "--name",
      "--context-json",
      "--schema-version-query",
      "--json",
      "--all-databases",
      "--with-role-passwords",
      "--exclude-database",
    ]) {
      assert.ok(run.stdout.includes(flag), flag);
    }
    assert.match(run.stdout, /PG_DSN/);
    assert.match(run.stdout, /exit codes: 0 .*1 .*2/s);
  });
});
