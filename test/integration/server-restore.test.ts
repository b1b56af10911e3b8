import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ADMIN, dsnFor, fingerprint, query, runCli, tempDir } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";
import { acquireOperationLock } from "../../src/lib/lock/operation-lock";
import { parsePgDsn } from "../../src/lib/pg/connection";

/**
 * A server snapshot restored onto the shared test server. Other suites' databases come and go there, so every
 * snapshot here is limited to this run's own databases (--include-database), and only those are restored.
 */
describe("runbook restore of a server snapshot (integration, real PostgreSQL)", function () {
  this.timeout(300_000);
  const { created } = postgresSuite();
  const pid = process.pid;
  const owner = `srvr_owner_${pid}`;
  const reader = `srvr_reader_${pid}`;
  const fgaOwner = `srvr_fgaown_${pid}`;
  const fgaReader = `srvr_fgaread_${pid}`;
  const ownDatabases = `srvr_*_${pid}_*`;
  let assets: string;
  let fga: string;
  let governance: string;
  let keycloak: string;
  let all: string[];
  let snapshotPath: string;
  let preRestoreDir: string;
  /** What each database held when the snapshot was taken. */
  const saved = new Map<string, unknown>();

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PG_DSN: dsnFor("postgres"), ...extra });
  const restore = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(["restore", ...args], { env: env(extra) });

  async function state(database: string): Promise<unknown> {
    return {
      tables: await fingerprint(database),
      alembic: await query(database, "select version_num from alembic_version order by 1"),
    };
  }

  /** Writes after the snapshot that a restore must undo: rows, the alembic revision, a table dropped. */
  async function changeEverything(): Promise<void> {
    for (const db of all) {
      await query(
        db,
        `insert into items (body) values ('written after the snapshot');
         update alembic_version set version_num = 'ffffffffffff';
         drop table if exists extra`,
      );
    }
  }

  async function databaseExists(name: string): Promise<boolean> {
    return (await query("postgres", "select 1 from pg_database where datname = $1", [name])).length === 1;
  }

  async function keptOf(name: string): Promise<string[]> {
    const rows = await query<{ datname: string }>(
      "postgres",
      "select datname from pg_database where starts_with(datname, $1 || '_pre_restore_') order by 1",
      [name],
    );
    return rows.map((r) => r.datname);
  }

  before(async () => {
    await query(
      "postgres",
      `create role ${owner} login; create role ${reader} nologin in role ${owner};
       create role ${fgaOwner} login createdb; create role ${fgaReader} nologin in role ${fgaOwner}`,
    );
    assets = await created("srvr_assets", owner);
    fga = await created("srvr_fga", fgaOwner);
    governance = await created("srvr_gov", owner);
    keycloak = await created("srvr_kc");
    all = [assets, fga, governance, keycloak];
    const revisions = new Map([
      [assets, "b81e0c55a9d2"],
      [fga, "7c0ffee00001"],
      [governance, "4f2a9c1d7e30"],
      [keycloak, "0d93e7a4c1b8"],
    ]);
    for (const db of all) {
      const tableOwner = db === fga ? fgaOwner : db === keycloak ? ADMIN.user : owner;
      await query(
        db,
        `set role ${tableOwner};
         create table alembic_version (version_num varchar(32) primary key);
         insert into alembic_version values ('${revisions.get(db)}');
         create table items (id serial primary key, body text not null);
         insert into items (body) select 'row ' || g from generate_series(1, 500) g;
         create table extra (id int); insert into extra values (1), (2);
         reset role`,
      );
    }
    await query(governance, `grant select on items to ${reader}`);
    await query(fga, `grant select on items to ${fgaReader}`);
    await query(
      "postgres",
      `revoke all on database ${fga} from public; grant connect on database ${fga} to ${fgaReader};
       alter database ${fga} set statement_timeout = '17s'`,
    );
    for (const db of all) saved.set(db, await state(db));

    preRestoreDir = tempDir("server-restore");
    const outDir = path.join(preRestoreDir, "snapshots");
    const run = await runCli(
      ["snapshot", "--all-databases", "--out-dir", outDir, "--include-database", ownDatabases, "--json"],
      { env: env() },
    );
    assert.equal(run.code, 0, run.stderr);
    snapshotPath = String(run.json!.path);
    const listed = (run.json!.databases as { name: string }[]).map((d) => d.name);
    assert.deepEqual(listed, [...all].sort(), "the snapshot holds exactly this run's databases");
  });

  after(async () => {
    // postgresSuite's after hook has dropped the databases by now (it runs first); then the roles can go.
    for (const role of [reader, owner, fgaReader, fgaOwner]) {
      await query("postgres", `drop role if exists ${role}`);
    }
  });

  it("without --yes prints the plan and changes nothing", async () => {
    await changeEverything();
    const before = await Promise.all(all.map(state));
    const run = await restore(["--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /would restore 4 of the 4 databases/);
    for (const db of all) assert.match(run.stderr, new RegExp(`${db}: present; swapped`));
    assert.deepEqual(await Promise.all(all.map(state)), before, "nothing changed");
    assert.deepEqual(fs.readdirSync(preRestoreDir), ["snapshots"], "no journal, no pre-restore snapshot");
  });

  it("refuses an unknown --database, naming the databases the snapshot holds", async () => {
    const run = await restore(["--snapshot", snapshotPath, "--database", "no_such_db", "--yes"]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /--database no_such_db: not in .*, which holds /);
    for (const db of all) assert.ok(run.stderr.includes(db), `names ${db}: ${run.stderr}`);
  });

  it("restores every database: data and alembic revision as snapshotted, previous copies kept", async () => {
    await changeEverything();
    const changed = new Map<string, unknown>();
    for (const db of all) changed.set(db, await state(db));
    const run = await restore(["--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir, "--yes", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const out = run.json as { databases: { name: string; keptDatabase: string; preRestoreSnapshot: string }[] };
    assert.deepEqual(
      out.databases.map((d) => d.name),
      [...all].sort(),
    );
    for (const db of all) {
      assert.deepEqual(await state(db), saved.get(db), `${db} holds what the snapshot held`);
      const entry = out.databases.find((d) => d.name === db)!;
      assert.deepEqual(await state(entry.keptDatabase), changed.get(db), `${db}'s previous data is kept`);
      assert.ok(fs.existsSync(entry.preRestoreSnapshot), `pre-restore snapshot of ${db}`);
    }
    const fgaAcl = await query<{ acl: string }>(
      "postgres",
      "select datacl::text as acl from pg_database where datname = $1",
      [fga],
    );
    assert.match(fgaAcl[0].acl, new RegExp(`${fgaReader}=c/`), "the database's grants are kept");
  });

  it("restores one database alone and leaves the others as they are", async () => {
    await changeEverything();
    const others = all.filter((db) => db !== governance);
    const before = new Map<string, unknown>();
    for (const db of others) before.set(db, await state(db));
    const keptBefore = await Promise.all(others.map(keptOf));
    const run = await restore([
      "--snapshot",
      snapshotPath,
      "--database",
      governance,
      "--pre-restore-dir",
      preRestoreDir,
      "--yes",
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      (run.json!.databases as { name: string }[]).map((d) => d.name),
      [governance],
    );
    assert.deepEqual(await state(governance), saved.get(governance));
    for (const db of others) assert.deepEqual(await state(db), before.get(db), `${db} untouched`);
    assert.deepEqual(await Promise.all(others.map(keptOf)), keptBefore, "no other database was swapped");
  });

  it("creates a missing database with its owner, grants and missing roles (no passwords), then restores it", async () => {
    // The kept copies of the earlier restores are owned by the roles and hold their grants: they go first.
    for (const db of [fga, ...(await keptOf(fga))]) await query("postgres", `drop database "${db}" with (force)`);
    await query("postgres", `drop role ${fgaReader}; drop role ${fgaOwner}`);
    assert.equal(await databaseExists(fga), false);
    const run = await restore([
      "--snapshot",
      snapshotPath,
      "--database",
      fga,
      "--pre-restore-dir",
      preRestoreDir,
      "--yes",
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual([...(run.json!.rolesCreated as string[])].sort(), [fgaOwner, fgaReader].sort());
    assert.deepEqual(await state(fga), saved.get(fga));
    const roles = await query<{
      rolname: string;
      rolcanlogin: boolean;
      rolcreatedb: boolean;
      rolpassword: string | null;
    }>(
      "postgres",
      "select rolname, rolcanlogin, rolcreatedb, rolpassword from pg_authid where rolname = any($1) order by 1",
      [[fgaOwner, fgaReader]],
    );
    assert.deepEqual(
      roles.map((r) => [r.rolname, r.rolcanlogin, r.rolcreatedb, r.rolpassword]),
      [
        [fgaOwner, true, true, null],
        [fgaReader, false, false, null],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      "created as saved, without passwords",
    );
    const member = await query(
      "postgres",
      "select 1 from pg_auth_members m join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member where r.rolname = $1 and u.rolname = $2",
      [fgaOwner, fgaReader],
    );
    assert.equal(member.length, 1, "the membership is back");
    const db = await query<{ owner: string; acl: string; settings: string[] }>(
      "postgres",
      `select pg_get_userbyid(d.datdba) as owner, d.datacl::text as acl,
              (select s.setconfig from pg_db_role_setting s where s.setdatabase = d.oid and s.setrole = 0) as settings
         from pg_database d where d.datname = $1`,
      [fga],
    );
    assert.equal(db[0].owner, fgaOwner);
    assert.match(db[0].acl, new RegExp(`${fgaReader}=c/`));
    assert.doesNotMatch(db[0].acl, /(^|[{,])=/, "PUBLIC has no privileges, as in the snapshot");
    assert.deepEqual(db[0].settings, ["statement_timeout=17s"]);
    const grants = await query(fga, "select has_table_privilege($1, 'items', 'select') as can", [fgaReader]);
    assert.deepEqual(grants, [{ can: true }], "the table's grant to the re-created role is restored");
  });

  it("a server restore killed mid-way is finished by --resume: every database present and restored", async () => {
    await changeEverything();
    const order = [...all].sort();
    const third = order[2];
    const killed = await restore(["--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir, "--yes"], {
      RUNBOOK_TEST_CRASH_AFTER: `${third}:target-renamed`,
    });
    assert.equal(killed.code, null, `killed: ${killed.stderr}`);
    assert.equal(await databaseExists(third), false, "killed between the two renames: no database carries its name");
    // Two databases are restored at a time: which others were done, under way or not reached depends on timing.
    const killedJournal = fs.readdirSync(preRestoreDir).filter((f) => f.endsWith(".server-restore-journal.json"));
    const states = killedJournal
      .map(
        (f) =>
          JSON.parse(fs.readFileSync(path.join(preRestoreDir, f), "utf8")) as {
            status: string;
            databases: { state: string }[];
          },
      )
      .filter((j) => j.status === "running")
      .flatMap((j) => j.databases.map((d) => d.state));
    assert.equal(states.length, 4, "one unfinished server journal");
    assert.ok(
      states.filter((st) => st === "restored").length < 4,
      `not all restored when killed: ${states.join(", ")}`,
    );

    const again = await restore(["--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir, "--yes"]);
    assert.equal(again.code, 1, "a new restore refuses while the journal is unfinished");
    assert.match(again.stderr, /unfinished server restore .*--resume --journal/s);

    const resumed = await restore(["--resume", "--snapshot-dir", preRestoreDir, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    for (const db of all) {
      assert.equal(await databaseExists(db), true, `${db} is present`);
      assert.deepEqual(await state(db), saved.get(db), `${db} holds what the snapshot held`);
    }
    const journal = JSON.parse(fs.readFileSync(String(resumed.json!.journal), "utf8")) as {
      status: string;
      databases: { state: string }[];
    };
    assert.equal(journal.status, "completed");
    assert.deepEqual(
      journal.databases.map((d) => d.state),
      ["restored", "restored", "restored", "restored"],
    );
    const twice = await restore(["--resume", "--journal", String(resumed.json!.journal)]);
    assert.equal(twice.code, 0, twice.stderr);
    assert.match(twice.stdout, /had completed; nothing to do/);
  });

  it("--abort of a server restore killed mid-way puts back the database under way and keeps those done", async () => {
    await changeEverything();
    const order = [...all].sort();
    const changed = new Map<string, unknown>();
    for (const db of order) changed.set(db, await state(db));
    const killed = await restore(["--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir, "--yes"], {
      RUNBOOK_TEST_CRASH_AFTER: `${order[1]}:scratch-restored`,
    });
    assert.equal(killed.code, null, `killed: ${killed.stderr}`);

    const aborted = await restore(["--abort", "--snapshot-dir", preRestoreDir, "--json"]);
    assert.equal(aborted.code, 0, aborted.stderr);
    const done = (aborted.json!.restored as { name: string }[]).map((d) => d.name);
    assert.ok(!done.includes(order[1]), "the database killed mid-way is not among those done");
    for (const db of order) {
      if (done.includes(db)) {
        assert.deepEqual(await state(db), saved.get(db), `${db}, restored before the kill, stays restored`);
        continue;
      }
      assert.deepEqual(await state(db), changed.get(db), `${db} holds what it held before the restore`);
      const scratch = await query(
        "postgres",
        "select 1 from pg_database where starts_with(datname, $1 || '_restore_')",
        [db],
      );
      assert.equal(scratch.length, 0, `no scratch database of ${db} is left`);
    }
    const journal = JSON.parse(fs.readFileSync(String(aborted.json!.journal), "utf8")) as { status: string };
    assert.equal(journal.status, "aborted");
    const resumed = await restore(["--resume", "--journal", String(aborted.json!.journal)]);
    assert.equal(resumed.code, 1);
    assert.match(resumed.stderr, /was aborted .*there is nothing to resume/);
  });

  it("holds the lock of every database it restores, and snapshot --all-databases holds them too", async () => {
    const held = await acquireOperationLock({
      connection: parsePgDsn(dsnFor("postgres")),
      database: keycloak,
      command: "restore",
    });
    try {
      await changeEverything();
      const before = await Promise.all(all.map(state));
      const run = await restore(["--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir, "--yes"]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`another runbook operation holds the lock on database ${keycloak}: runbook restore by`),
      );
      assert.deepEqual(await Promise.all(all.map(state)), before, "nothing was restored");
      const snap = await runCli(
        [
          "snapshot",
          "--all-databases",
          "--out-dir",
          tempDir("server-restore-lock"),
          "--include-database",
          ownDatabases,
        ],
        { env: env() },
      );
      assert.equal(snap.code, 1, snap.stderr);
      assert.match(snap.stderr, new RegExp(`holds the lock on database ${keycloak}`));
    } finally {
      await held.release();
    }
  });
});
