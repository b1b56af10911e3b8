import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { dsnFor, databasesNamedAfter, fingerprint, query, runCli, tempDir } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";
import { lockKeyFor } from "../../src/lib/lock/lock-key";
import { RESTORE_STEPS } from "../../src/lib/restore/restore-journal";

/** Writes after the snapshot, so that the snapshot's data and the data before the restore differ. */
async function writeAfterSnapshot(database: string): Promise<void> {
  await query(
    database,
    `insert into accounts (email, profile, created_at) values ('late@example.com', '{"late": true}', now());
     update documents set body = 'rewritten' where id = 1;
     delete from events where id <= 10;
     create table added_later (id int);`,
  );
}

/** The server ends a killed holder's session as soon as it sees the socket close; wait for that. */
async function lockReleased(database: string): Promise<void> {
  const key = lockKeyFor(database);
  for (let i = 0; i < 200; i++) {
    const rows = await query(
      "postgres",
      "select 1 from pg_locks where locktype = 'advisory' and classid = $1::bigint::oid and objid = $2::bigint::oid",
      [key.namespace, key.key],
    );
    if (rows.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the lock on ${database} was not released`);
}

interface Crashed {
  readonly db: string;
  readonly outDir: string;
  readonly atSnapshot: Awaited<ReturnType<typeof fingerprint>>;
  readonly beforeRestore: Awaited<ReturnType<typeof fingerprint>>;
}

describe("runbook restore --resume / --abort after a crash (integration, real PostgreSQL)", function () {
  this.timeout(180_000);
  const { seeded } = postgresSuite();

  /** A restore of a seeded database killed (SIGKILL) right after `step`, before its journal records it. */
  async function crashedRestore(prefix: string, step: string): Promise<Crashed> {
    const db = await seeded(prefix);
    const outDir = tempDir(prefix);
    const snap = await runCli(["snapshot", "--out-dir", outDir, "--format", "custom", "--json"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assert.equal(snap.code, 0, snap.stderr);
    const atSnapshot = await fingerprint(db);
    await writeAfterSnapshot(db);
    const beforeRestore = await fingerprint(db);
    const run = await runCli(["restore", "--snapshot", String(snap.json!.path), "--yes", "--json"], {
      env: { PG_DSN: dsnFor(db), RUNBOOK_TEST_CRASH_AFTER: step },
    });
    assert.equal(run.code, null, `the restore was killed after ${step}: ${run.stderr}`);
    await lockReleased(db);
    return { db, outDir, atSnapshot, beforeRestore };
  }

  const short = (step: string): string => step.replace(/[^a-z]/g, "").slice(0, 8);

  for (const step of RESTORE_STEPS) {
    it(`--resume finishes a restore killed after ${step}: the snapshot's data under the name, the old data kept`, async () => {
      const { db, outDir, atSnapshot, beforeRestore } = await crashedRestore(`rj_res_${short(step)}`, step);
      const resumed = await runCli(["restore", "--resume", "--snapshot-dir", outDir, "--json"], {
        env: { PG_DSN: dsnFor(db) },
      });
      assert.equal(resumed.code, 0, resumed.stderr);
      const kept = String(resumed.json!.keptDatabase);
      assert.match(kept, new RegExp(`^${db}_pre_restore_\\d{8}_\\d{6}$`));
      assert.deepEqual(await fingerprint(db), atSnapshot, "the application's database holds the snapshot's data");
      assert.deepEqual(await fingerprint(kept), beforeRestore, "the kept database holds the data from before");
      assert.deepEqual(await databasesNamedAfter(db), [db, kept], "nothing dropped but the scratch database");
      const allow = await query<{ datallowconn: boolean }>(
        "postgres",
        "select datallowconn from pg_database where datname = any($1) order by datname",
        [[db, kept]],
      );
      assert.deepEqual(
        allow.map((r) => r.datallowconn),
        [true, true],
        "both accept connections",
      );
      const journal = JSON.parse(fs.readFileSync(String(resumed.json!.journal), "utf8"));
      assert.equal(journal.status, "completed");
      assert.equal(fs.statSync(String(resumed.json!.journal)).mode & 0o777, 0o600);

      const again = await runCli(["restore", "--resume", "--snapshot-dir", outDir], { env: { PG_DSN: dsnFor(db) } });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /had completed; nothing to do/);
    });

    it(`--abort after a restore killed after ${step} leaves the data from before under the name`, async () => {
      const { db, outDir, atSnapshot, beforeRestore } = await crashedRestore(`rj_abo_${short(step)}`, step);
      const before = await databasesNamedAfter(db);
      const aborted = await runCli(["restore", "--abort", "--snapshot-dir", outDir, "--json"], {
        env: { PG_DSN: dsnFor(db) },
      });
      assert.equal(aborted.code, 0, aborted.stderr);
      assert.deepEqual(await fingerprint(db), beforeRestore, "the application's database holds the data from before");
      const after = await databasesNamedAfter(db);
      assert.ok(after.includes(db));
      // Nothing that held the application's data was dropped: the kept database went back under the name
      // (its data checked above), and only a scratch database that never served was dropped.
      for (const name of before.filter((n) => !after.includes(n) && !n.startsWith(`${db}_pre_restore_`))) {
        assert.match(name, new RegExp(`^${db}_restore_`), `${name} was dropped`);
        assert.equal(aborted.json!.restoredCopyKept, undefined);
      }
      if (step === "scratch-renamed" || step === "kept-reopened") {
        const copy = String(aborted.json!.restoredCopyKept);
        assert.ok(after.includes(copy), "the restored copy that served under the name is kept");
        assert.deepEqual(await fingerprint(copy), atSnapshot);
      }
      const [allow] = await query<{ datallowconn: boolean }>(
        "postgres",
        "select datallowconn from pg_database where datname = $1",
        [db],
      );
      assert.equal(allow.datallowconn, true);
      const journal = JSON.parse(fs.readFileSync(path.join(outDir, journalName(outDir)), "utf8"));
      assert.equal(journal.status, "aborted");
    });
  }

  it("refuses a new restore while one of the same database is unfinished, naming the journal and both ways out", async () => {
    const { db, outDir, beforeRestore } = await crashedRestore("rj_refuse", "target-renamed");
    const snapshot = fs.readdirSync(outDir).find((f) => f.endsWith(".dump"))!;
    const journal = path.join(outDir, journalName(outDir));
    const refused = await runCli(["restore", "--snapshot", path.join(outDir, snapshot), "--yes"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`an unfinished restore of database ${db} .* is recorded in ${journal}`));
    assert.ok(refused.stderr.includes(`runbook restore --resume --journal ${journal}`), refused.stderr);
    assert.ok(refused.stderr.includes(`runbook restore --abort --journal ${journal}`), refused.stderr);
    assert.match(refused.stderr, /nothing was changed/);
    const aborted = await runCli(["restore", "--abort", "--journal", journal], { env: { PG_DSN: dsnFor(db) } });
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.deepEqual(await fingerprint(db), beforeRestore);
  });
});

function journalName(dir: string): string {
  const names = fs.readdirSync(dir).filter((f) => f.endsWith(".restore-journal.json"));
  assert.equal(names.length, 1, names.join(", "));
  return names[0];
}
