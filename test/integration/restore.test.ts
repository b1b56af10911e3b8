import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import {
  ADMIN,
  APP,
  Credentials,
  PG_HOST,
  PG_PORT,
  createDatabase,
  databasesNamedAfter,
  dsnFor,
  fingerprint,
  query,
  realTool,
  runCli,
  tempDir,
  toolWrapper,
} from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";
import { swapNames } from "../../src/lib/restore/database-swap";

interface Snapshot {
  readonly path: string;
  readonly manifestPath: string;
}

async function snapshotOf(
  database: string,
  outDir: string,
  format = "directory",
  credentials: Credentials = ADMIN,
): Promise<Snapshot> {
  const run = await runCli(["snapshot", "--out-dir", outDir, "--format", format, "--json"], {
    env: { PG_DSN: dsnFor(database, credentials) },
  });
  assert.equal(run.code, 0, run.stderr);
  return { path: String(run.json!.path), manifestPath: String(run.json!.manifestPath) };
}

/** Writes that happen after the snapshot: the restore must undo them. */
async function writeAfterSnapshot(database: string): Promise<void> {
  await query(
    database,
    `insert into accounts (email, profile, created_at) values ('late@example.com', '{"late": true}', now());
     update documents set body = 'rewritten' where id = 1;
     delete from events where id <= 10;
     select nextval('invoice_number_seq');
     create table added_later (id int);`,
  );
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

describe("runbook restore (integration, real PostgreSQL)", function () {
  this.timeout(180_000);
  const { seeded, dropAfter } = postgresSuite();

  /** GRANTs and settings on the database itself, which pg_dump leaves out; the restore copies them. */
  async function databaseLevelFacts(db: string): Promise<unknown[]> {
    return query(
      "postgres",
      `select d.datacl::text as acl, pg_get_userbyid(d.datdba) as owner, pg_encoding_to_char(d.encoding) as encoding,
              d.datcollate, (select array_agg(array_to_string(s.setconfig, '|') order by s.setrole)
                               from pg_db_role_setting s where s.setdatabase = d.oid) as settings
         from pg_database d where d.datname = $1`,
      [db],
    );
  }

  for (const format of ["directory", "custom"] as const) {
    it(`restores a ${format} snapshot, keeps the old database and snapshots it first`, async () => {
      const db = await seeded(`rr_restore_${format.slice(0, 3)}`);
      await query(
        "postgres",
        `REVOKE ALL ON DATABASE ${db} FROM PUBLIC; GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${APP.user};
         ALTER DATABASE ${db} SET search_path = "$user", public, "Odd, Schema";
         ALTER DATABASE ${db} SET statement_timeout = '5min';
         ALTER ROLE ${APP.user} IN DATABASE ${db} SET work_mem = '8MB'`,
      );
      const databaseFacts = await databaseLevelFacts(db);
      const atSnapshot = await fingerprint(db);
      const outDir = tempDir("restore");
      const snapshot = await snapshotOf(db, outDir, format);
      await writeAfterSnapshot(db);
      const afterWrites = await fingerprint(db);
      assert.notDeepEqual(afterWrites, atSnapshot);

      // A session left open on the target is terminated by the swap.
      const lingering = new Client({
        host: PG_HOST,
        port: PG_PORT,
        user: ADMIN.user,
        password: ADMIN.password,
        database: db,
      });
      lingering.on("error", () => undefined);
      await lingering.connect();

      const run = await runCli(["restore", "--snapshot", snapshot.path, "--yes", "--json"], {
        env: { PG_DSN: dsnFor(db) },
      });
      assert.equal(run.code, 0, run.stderr);
      const out = run.json!;
      assert.equal(out.ok, true);
      assert.equal(out.restoredFrom, snapshot.path);
      assert.equal(typeof out.durationMs, "number");
      assert.match(String(out.keptDatabase), new RegExp(`^${db}_pre_restore_\\d{8}_\\d{6}$`));
      await assert.rejects(lingering.query("select 1"));
      await lingering.end().catch(() => undefined);

      // The target now holds exactly what the snapshot held: the later writes are gone.
      assert.deepEqual(await fingerprint(db), atSnapshot);
      assert.deepEqual(await databaseLevelFacts(db), databaseFacts, "GRANTs and settings on the database were copied");
      // The old database is kept, renamed, with the later writes.
      assert.deepEqual(await fingerprint(String(out.keptDatabase)), afterWrites);
      assert.deepEqual(await databasesNamedAfter(db), [db, String(out.keptDatabase)], "no scratch database left");

      // The pre-restore snapshot holds the later writes too: restore it into another database to see.
      const preRestore = String(out.preRestoreSnapshot);
      assert.equal(path.dirname(preRestore), outDir);
      assert.ok(fs.existsSync(String(out.preRestoreManifest)));
      const other = await createDatabase("rr_precheck");
      dropAfter(other);
      const check = await runCli(["restore", "--snapshot", preRestore, "--yes", "--force", "--json"], {
        env: { PG_DSN: dsnFor(other) },
      });
      assert.equal(check.code, 0, check.stderr);
      assert.match(String((check.json!.forced as string[])[0]), new RegExp(`is of database ${db}, not of ${other}`));
      assert.deepEqual(await fingerprint(other), afterWrites);
    });
  }

  it("keeps every old database and takes a new pre-restore snapshot when restores of one database share a second", async () => {
    const db = await seeded("rr_same_sec");
    const outDir = tempDir("restore-same-second");
    const snapshot = await snapshotOf(db, outDir, "custom");
    // Occupy the kept name of every second the restores below can start in, as an earlier restore would.
    const start = Date.now();
    const occupied: string[] = [];
    for (let s = 0; s < 30; s++) occupied.push(swapNames(db, new Date(start + s * 1000)).kept);
    for (const name of occupied) await query("postgres", `CREATE DATABASE ${name} TEMPLATE template0`);
    dropAfter(...occupied);

    const outcomes: Record<string, unknown>[] = [];
    for (let i = 0; i < 2; i++) {
      await writeAfterSnapshot(db);
      const before = await fingerprint(db);
      const run = await runCli(["restore", "--snapshot", snapshot.path, "--yes", "--json"], {
        env: { PG_DSN: dsnFor(db) },
      });
      assert.equal(run.code, 0, run.stderr);
      dropAfter(String(run.json!.keptDatabase));
      assert.match(String(run.json!.keptDatabase), new RegExp(`^${db}_pre_restore_\\d{8}_\\d{6}_\\d+$`));
      assert.deepEqual(
        await fingerprint(String(run.json!.keptDatabase)),
        before,
        "the kept database is the one replaced",
      );
      outcomes.push(run.json!);
    }
    assert.ok(Date.now() - start < 30_000, "the restores outran the occupied seconds");
    assert.notEqual(outcomes[0].keptDatabase, outcomes[1].keptDatabase);
    assert.notEqual(outcomes[0].preRestoreSnapshot, outcomes[1].preRestoreSnapshot);
  });

  it("changes nothing without --yes and exits 2 saying so", async () => {
    const db = await seeded("rr_restore_noyes");
    const outDir = tempDir("restore-noyes");
    const snapshot = await snapshotOf(db, outDir);
    await writeAfterSnapshot(db);
    const before = await fingerprint(db);
    const databases = await databasesNamedAfter(db);
    const run = await runCli(["restore", "--snapshot", snapshot.path], { env: { PG_DSN: dsnFor(db) } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /would restore .* into rr_restore_noyes/);
    assert.match(run.stderr, /nothing was changed: .*needs --yes/);
    assert.deepEqual(await fingerprint(db), before);
    assert.deepEqual(await databasesNamedAfter(db), databases);
    assert.equal(fs.readdirSync(outDir).length, 2, "no pre-restore snapshot was taken");
  });

  it("refuses a snapshot whose files no longer match the manifest's sha256", async () => {
    const db = await seeded("rr_restore_tamper");
    const outDir = tempDir("restore-tamper");
    const snapshot = await snapshotOf(db, outDir);
    await writeAfterSnapshot(db);
    const before = await fingerprint(db);
    const dataFile = fs.readdirSync(snapshot.path).find((f) => f.endsWith(".dat.gz"))!;
    fs.appendFileSync(path.join(snapshot.path, dataFile), "tampered");
    const run = await runCli(["restore", "--snapshot", snapshot.path, "--yes"], { env: { PG_DSN: dsnFor(db) } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /does not match its manifest: sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}/);
    assert.match(run.stderr, new RegExp(`files that differ or are missing: ${dataFile}`));
    assert.match(run.stderr, /Pass --force to restore anyway; nothing was changed/);
    assert.deepEqual(await fingerprint(db), before);
    assert.equal(fs.readdirSync(outDir).length, 2, "no pre-restore snapshot was taken");
  });

  it("restores past a sha256 mismatch with --force and says so", async () => {
    const db = await seeded("rr_restore_force");
    const atSnapshot = await fingerprint(db);
    const outDir = tempDir("restore-force");
    const snapshot = await snapshotOf(db, outDir, "custom");
    await writeAfterSnapshot(db);
    const manifest = JSON.parse(fs.readFileSync(snapshot.manifestPath, "utf8"));
    manifest.sha256 = "0".repeat(64);
    fs.writeFileSync(snapshot.manifestPath, JSON.stringify(manifest));
    const refused = await runCli(["restore", "--snapshot", snapshot.path, "--yes"], { env: { PG_DSN: dsnFor(db) } });
    assert.equal(refused.code, 1);
    const forced = await runCli(["restore", "--snapshot", snapshot.path, "--yes", "--force"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /forced past: .* does not match its manifest/);
    assert.deepEqual(await fingerprint(db), atSnapshot);
  });

  it("refuses a snapshot of another database", async () => {
    const db = await seeded("rr_restore_src");
    const other = await seeded("rr_restore_other");
    const before = await fingerprint(other);
    const snapshot = await snapshotOf(db, tempDir("restore-otherdb"));
    const run = await runCli(["restore", "--snapshot", snapshot.path, "--yes"], { env: { PG_DSN: dsnFor(other) } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`the snapshot is of database ${db}, not of ${other} named by PG_DSN`));
    assert.deepEqual(await fingerprint(other), before);
  });

  it("refuses a snapshot taken from another server major version", async () => {
    const db = await seeded("rr_restore_major");
    const before = await fingerprint(db);
    const snapshot = await snapshotOf(db, tempDir("restore-major"));
    const manifest = JSON.parse(fs.readFileSync(snapshot.manifestPath, "utf8"));
    Object.assign(manifest, { serverVersion: "9.6.24", serverVersionNum: 90624 });
    fs.writeFileSync(snapshot.manifestPath, JSON.stringify(manifest));
    await query(db, "insert into schema_migrations (version) values ('later')");
    const run = await runCli(["restore", "--snapshot", snapshot.path, "--yes"], { env: { PG_DSN: dsnFor(db) } });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /the snapshot was taken from PostgreSQL 9\.6\.24, the target runs \d+.* \(major 9\.6 vs \d+\)/,
    );
    assert.notDeepEqual(await fingerprint(db), before, "the later write is still there");
  });

  it("refuses a role without CREATEDB by naming the privilege, and leaves the database untouched", async () => {
    const db = await seeded("rr_restore_app", APP.user, APP);
    const outDir = tempDir("restore-app");
    const snapshot = await snapshotOf(db, outDir, "directory", APP);
    await query(db, "insert into accounts (email, profile, created_at) values ('x@example.com', '{}', now())", [], APP);
    const before = await fingerprint(db);
    const databases = await databasesNamedAfter(db);
    const run = await runCli(["restore", "--snapshot", snapshot.path, "--yes", "--json"], {
      env: { PG_DSN: dsnFor(db, APP) },
    });
    assert.equal(run.code, 1);
    assert.match(String(run.json!.error), /role runbook_app lacks the CREATEDB privilege/);
    assert.match(run.stderr, /ALTER ROLE "runbook_app" CREATEDB/);
    assert.match(run.stderr, /nothing was changed/);
    assert.deepEqual(await fingerprint(db), before);
    assert.deepEqual(await databasesNamedAfter(db), databases);
    assert.equal(fs.readdirSync(outDir).length, 2, "no pre-restore snapshot was taken");
  });

  it("drops only the scratch database when pg_restore fails, leaving the target as it was", async () => {
    const db = await seeded("rr_restore_fail");
    const outDir = tempDir("restore-fail");
    const snapshot = await snapshotOf(db, outDir);
    await writeAfterSnapshot(db);
    const before = await fingerprint(db);
    const databases = await databasesNamedAfter(db);
    const real = realTool("pg_restore");
    const wrapper = toolWrapper(
      "pg_restore",
      `[[ " $* " == *" --list "* ]] && exec '${real}' "$@"\necho 'pg_restore: error: simulated failure' >&2; exit 1`,
    );
    const run = await runCli(["restore", "--snapshot", snapshot.path, "--yes"], {
      env: { PG_DSN: dsnFor(db) },
      pathPrefix: [wrapper.binDir],
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /pg_restore failed \(exit code 1\): pg_restore: error: simulated failure/);
    assert.match(
      run.stderr,
      new RegExp(`${db} was not changed; the scratch database ${db}_restore_\\d{8}_\\d{6} was dropped`),
    );
    assert.deepEqual(await fingerprint(db), before);
    assert.deepEqual(await databasesNamedAfter(db), databases);
  });

  it("says --snapshot is missing or wrong with exit 2", async () => {
    const noFlag = await runCli(["restore", "--yes"], { env: { PG_DSN: dsnFor("postgres") } });
    assert.equal(noFlag.code, 2);
    assert.match(noFlag.stderr, /--snapshot PATH is required/);
    const missing = await runCli(["restore", "--snapshot", "/nonexistent/x.dump", "--yes"], {
      env: { PG_DSN: dsnFor("postgres") },
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--snapshot \/nonexistent\/x.dump does not exist/);
  });

  it("refuses a snapshot without its manifest", async () => {
    const db = await seeded("rr_restore_noman");
    const outDir = tempDir("restore-nomanifest");
    const snapshot = await snapshotOf(db, outDir);
    const moved = path.join(tempDir("restore-moved"), "copy");
    copyTree(snapshot.path, moved);
    const run = await runCli(["restore", "--snapshot", moved, "--yes"], { env: { PG_DSN: dsnFor(db) } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot restore .* without its manifest/);
  });

  it("prints help listing every flag, PG_DSN and the exit codes", async () => {
    const run = await runCli(["restore", "--help"]);
    assert.equal(run.code, 0);
    for (const flag of ["--snapshot", "--yes", "--force", "--pre-restore-dir", "--json"])
      assert.ok(run.stdout.includes(flag), flag);
    assert.match(run.stdout, /PG_DSN/);
    assert.match(run.stdout, /exit codes: 0 .*1 .*2/s);
  });
});
