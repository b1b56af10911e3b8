import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import os from "node:os";
import { Client } from "pg";
import {
  ADMIN,
  CliRun,
  PG_HOST,
  PG_PORT,
  dsnFor,
  query,
  realTool,
  runCli,
  tempDir,
  toolWrapper,
} from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";
import { holderLabel } from "../../src/lib/lock/holder";
import { lockKeyFor } from "../../src/lib/lock/lock-key";

/** The runbook lock's holding session on the test server, if any: its server pid and application_name. */
async function lockSession(database: string): Promise<{ pid: number; application_name: string } | undefined> {
  const key = lockKeyFor(database);
  const rows = await query<{ pid: number; application_name: string }>(
    "postgres",
    `select l.pid, a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 2
        and l.classid = $1::bigint::oid and l.objid = $2::bigint::oid`,
    [key.namespace, key.key],
  );
  return rows[0];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A pg_dump that waits before dumping, so that the snapshot holds its lock for a while. */
function slowPgDump(seconds: number): string {
  const real = realTool("pg_dump");
  return toolWrapper("pg_dump", `[[ "$1" == --version ]] || sleep ${seconds}\nexec '${real}' "$@"`).binDir;
}

/** A session of the test's own holding the runbook lock of `database` under a runbook label. */
async function fakeHolder(database: string, holder: { pid: number; host: string; command: string }): Promise<Client> {
  const label = holderLabel({ ...holder, since: new Date(), user: "ops", hostTruncated: false });
  const client = new Client({
    host: PG_HOST,
    port: PG_PORT,
    user: ADMIN.user,
    password: ADMIN.password,
    database: "postgres",
    application_name: label,
  });
  client.on("error", () => undefined);
  await client.connect();
  const key = lockKeyFor(database);
  const { rows } = await client.query("select pg_try_advisory_lock($1::int4, $2::int4) as taken", [
    key.namespace,
    key.key,
  ]);
  assert.equal(rows[0].taken, true);
  return client;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

function assertRefusedNaming(run: CliRun, database: string, holder: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`another runbook operation holds the lock on database ${database}: `));
  assert.match(run.stderr, holder);
  assert.match(
    run.stderr,
    new RegExp(`wait for it, or if that process is gone, \`runbook unlock --database ${database}\``),
  );
}

describe("one runbook operation at a time (integration, real PostgreSQL)", function () {
  this.timeout(120_000);
  const { seeded } = postgresSuite();
  const me = `${os.userInfo().username}@${os.hostname()}`.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  it("refuses a second snapshot or restore while a snapshot runs, naming it, and lets it run afterwards", async () => {
    const db = await seeded("rr_lock_two");
    const outDir = tempDir("lock-two");
    let firstPid = 0;
    const first = runCli(["snapshot", "--out-dir", outDir, "--json"], {
      env: { PG_DSN: dsnFor(db) },
      pathPrefix: [slowPgDump(4)],
      onStart: (pid) => (firstPid = pid),
    });
    await waitFor("the first snapshot to take the lock", async () => (await lockSession(db)) !== undefined);

    const started = Date.now();
    const second = await runCli(["snapshot", "--out-dir", tempDir("lock-two-b"), "--json"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assert.ok(Date.now() - started < 3_000, "refused at once, without waiting for the lock");
    const holder = new RegExp(`runbook snapshot by ${me} \\(pid ${firstPid}\\) since \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z`);
    assertRefusedNaming(second, db, holder);
    assert.equal(second.json?.ok, false);

    const restore = await runCli(["restore", "--snapshot", `${outDir}/none.dump`, "--yes"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assertRefusedNaming(restore, db, holder);

    const firstRun = await first;
    assert.equal(firstRun.code, 0, firstRun.stderr);
    assert.equal(await lockSession(db), undefined, "released when the snapshot ended");
    const again = await runCli(["snapshot", "--out-dir", tempDir("lock-two-c"), "--json"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assert.equal(again.code, 0, again.stderr);
  });

  it("a lock handed down (RUNBOOK_LOCK_HANDOFF) lets the holder's own child work under it; a copied variable does not", async () => {
    const db = await seeded("rr_lock_handoff");
    // This test process is the holder (as a rollback is), its label naming its own pid.
    const holder = await fakeHolder(db, { pid: process.pid, host: os.hostname(), command: "rollback --to 1" });
    try {
      const handoff = { RUNBOOK_LOCK_HANDOFF: `${process.pid}:${db}` };
      const child = await runCli(["snapshot", "--out-dir", tempDir("lock-handoff"), "--json"], {
        env: { PG_DSN: dsnFor(db), ...handoff },
      });
      assert.equal(child.code, 0, child.stderr);
      const without = await runCli(["snapshot", "--out-dir", tempDir("lock-handoff-b"), "--json"], {
        env: { PG_DSN: dsnFor(db) },
      });
      assertRefusedNaming(without, db, new RegExp(`runbook rollback --to 1 by ops@\\S+ \\(pid ${process.pid}\\)`));
    } finally {
      await holder.end();
    }
    // A holder that is not an ancestor: a snapshot holding the lock, and a sibling with the variable copied.
    let firstPid = 0;
    const first = runCli(["snapshot", "--out-dir", tempDir("lock-handoff-c"), "--json"], {
      env: { PG_DSN: dsnFor(db) },
      pathPrefix: [slowPgDump(4)],
      onStart: (pid) => (firstPid = pid),
    });
    await waitFor("the first snapshot to take the lock", async () => (await lockSession(db)) !== undefined);
    const sibling = await runCli(["snapshot", "--out-dir", tempDir("lock-handoff-d"), "--json"], {
      env: { PG_DSN: dsnFor(db), RUNBOOK_LOCK_HANDOFF: `${firstPid}:${db}` },
    });
    assertRefusedNaming(sibling, db, new RegExp(`runbook snapshot by ${me} \\(pid ${firstPid}\\)`));
    assert.equal((await first).code, 0);
  });

  it("locks per database: a snapshot of another database runs beside it", async () => {
    const db = await seeded("rr_lock_a");
    const other = await seeded("rr_lock_b");
    const holder = await fakeHolder(db, { pid: process.pid, host: os.hostname(), command: "restore" });
    try {
      const run = await runCli(["snapshot", "--out-dir", tempDir("lock-other"), "--json"], {
        env: { PG_DSN: dsnFor(other) },
      });
      assert.equal(run.code, 0, run.stderr);
    } finally {
      await holder.end();
    }
  });

  it("releases the lock of a holder that was killed", async () => {
    const db = await seeded("rr_lock_killed");
    let firstPid = 0;
    const first = runCli(["snapshot", "--out-dir", tempDir("lock-killed"), "--json"], {
      env: { PG_DSN: dsnFor(db) },
      pathPrefix: [slowPgDump(4)],
      onStart: (pid) => (firstPid = pid),
    });
    await waitFor("the snapshot to take the lock", async () => (await lockSession(db)) !== undefined);
    process.kill(firstPid, "SIGKILL");
    assert.equal((await first).code, null);
    await waitFor("the server to end the killed holder's session", async () => (await lockSession(db)) === undefined);
    const next = await runCli(["snapshot", "--out-dir", tempDir("lock-killed-b"), "--json"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assert.equal(next.code, 0, next.stderr);
  });

  it("unlock ends the session of a holder whose process is gone, naming what it broke", async () => {
    const db = await seeded("rr_lock_stale");
    const gone = deadPid();
    const stale = await fakeHolder(db, { pid: gone, host: os.hostname(), command: "restore" });
    const backendPid = (await lockSession(db))!.pid;

    const refused = await runCli(["snapshot", "--out-dir", tempDir("lock-stale"), "--json"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assertRefusedNaming(refused, db, new RegExp(`runbook restore by ops@${os.hostname()} \\(pid ${gone}\\)`));

    const unlock = await runCli(["unlock", "--database", db], { env: { PG_DSN: dsnFor("postgres") } });
    assert.equal(unlock.code, 0, unlock.stderr);
    assert.match(
      unlock.stdout,
      new RegExp(
        `broke the runbook lock on database ${db}: ended server session ${backendPid}, held by runbook restore by ops@${os.hostname()} \\(pid ${gone}\\)`,
      ),
    );
    await assert.rejects(stale.query("select 1"), "the stale session was ended");
    await stale.end().catch(() => undefined);
    assert.equal(await lockSession(db), undefined);

    const after = await runCli(["snapshot", "--out-dir", tempDir("lock-stale-b"), "--json"], {
      env: { PG_DSN: dsnFor(db) },
    });
    assert.equal(after.code, 0, after.stderr);
    const nothing = await runCli(["unlock", "--json"], { env: { PG_DSN: dsnFor(db) } });
    assert.equal(nothing.code, 0, nothing.stderr);
    assert.deepEqual(nothing.json, { ok: true, database: db, broken: null });
  });

  it("unlock refuses a holder that may still run unless --force", async () => {
    const db = await seeded("rr_lock_live");
    const live = await fakeHolder(db, { pid: process.pid, host: os.hostname(), command: "snapshot" });
    const remote = await seeded("rr_lock_remote");
    const elsewhere = await fakeHolder(remote, { pid: 4242, host: "db-admin-7.example.internal", command: "restore" });
    try {
      const refused = await runCli(["unlock"], { env: { PG_DSN: dsnFor(db) } });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`pid ${process.pid}\\).*still running on this machine`));
      assert.match(refused.stderr, new RegExp(`runbook unlock --database ${db} --force`));
      assert.notEqual(await lockSession(db), undefined, "still held");

      const remoteRefused = await runCli(["unlock"], { env: { PG_DSN: dsnFor(remote) } });
      assert.equal(remoteRefused.code, 1);
      // application_name keeps 63 bytes: a long host name is cut short, and says so.
      assert.match(remoteRefused.stderr, /ops@db-admin-7\.example\.[a-z]*… \(pid 4242\).*on another machine/);

      const forced = await runCli(["unlock", "--force", "--json"], { env: { PG_DSN: dsnFor(db) } });
      assert.equal(forced.code, 0, forced.stderr);
      const broken = forced.json!.broken as { holder: { pid: number; command: string } };
      assert.equal(broken.holder.pid, process.pid);
      assert.equal(broken.holder.command, "snapshot");
      assert.equal(await lockSession(db), undefined);
    } finally {
      await live.end().catch(() => undefined);
      await elsewhere.end().catch(() => undefined);
    }
  });
});
