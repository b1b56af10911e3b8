import * as assert from "assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  deployedImages,
  firstInstallStack,
  helmRevisions,
  kubectl,
  makeProjectCopy,
  pulumiEnv,
  REGISTRY,
  removeProjectCopy,
  runbook,
  setFixtureMode,
  setTags,
  up,
  withDb,
} from "./support/project";

const STACK = "e2e-rb-journal";
const schemaVersion = () =>
  withDb(async (db) => String((await db.query("select max(version) as v from schema_migrations")).rows[0].v));

/** A checksum of what the application stored: every table's rows, in order. */
const databaseChecksum = () =>
  withDb(async (db) => {
    const tables = (
      await db.query("select tablename from pg_tables where schemaname = 'public' order by tablename")
    ).rows.map((r) => String(r.tablename));
    const parts: string[] = [];
    for (const t of tables) {
      const { rows } = await db.query(
        `select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from "${t}" x`,
      );
      parts.push(`${t}:${rows[0].h}`);
    }
    return parts.join(",");
  });

/** What Alexandria's ApplySchema does when v1.5.0 starts: a forward-only migration, then new data. */
async function migrateAsV150(): Promise<void> {
  await withDb(async (db) => {
    await db.query("alter table users add column if not exists locale text default 'en'");
    await db.query("insert into schema_migrations (version, applied_at) values (2, now())");
    await db.query("create table if not exists written_after_upgrade (note text)");
    await db.query("insert into written_after_upgrade values ('v1.5.0 data')");
    // The application creates its tables as its own role: the pipeline's snapshot dumps with that role.
    await db.query("alter table written_after_upgrade owner to alexandria");
  });
}

const replicas = (): Record<string, { replicas: number; recorded?: string }> => {
  const list = JSON.parse(
    kubectl("get", "deployments", "-l", "app.kubernetes.io/instance=alexandria-ee", "-o", "json"),
  ) as {
    items: { metadata: { name: string; annotations?: Record<string, string> }; spec: { replicas: number } }[];
  };
  return Object.fromEntries(
    list.items.map((i) => [
      i.metadata.name,
      {
        replicas: i.spec.replicas,
        ...(i.metadata.annotations?.["release-runbook/replicas-before-rollback"] === undefined
          ? {}
          : { recorded: i.metadata.annotations["release-runbook/replicas-before-rollback"] }),
      },
    ]),
  );
};

describe("e2e: rollback of a protected stack — proven plan, journaled order, --resume, --abort, the lock", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let stack: Stack;
  const keptDatabases = new Set<string>();
  const stackFile = () => path.join(project.dir, `Pulumi.${STACK}.yaml`);
  const rollback = (...flags: string[]) => runbook(project, ["rollback", "--stack", STACK, ...flags]);
  const toV1 = (...flags: string[]) => rollback("--to", "1", "--restore-snapshot", "auto", ...flags);
  const journals = () => fs.readdirSync(project.snapshots).filter((f) => f.endsWith(".rollback-journal.json"));
  const readJournal = (name: string) => JSON.parse(fs.readFileSync(path.join(project.snapshots, name), "utf8"));

  /** Back to v1.5.0 on schema 2, as an upgrade would leave it (acknowledged: a protected stack). */
  async function upgradeToV150(): Promise<void> {
    await setTags(stack, "v1.5.0");
    await stack.setConfig("acknowledgeUpgrade", { value: "v1.5.0" });
    const result = await up(stack);
    assert.ifError(result.error);
    await migrateAsV150();
    assert.strictEqual(await schemaVersion(), "2");
    assert.strictEqual(deployedImages().api, `${REGISTRY}/alexandria/api:v1.5.0`);
  }

  /** Version 1 serves, on schema 1, without the data v1.5.0 wrote; the workloads run again. */
  async function assertAtV1(): Promise<void> {
    assert.strictEqual(deployedImages().api, `${REGISTRY}/alexandria/api:v1.4.0`);
    assert.strictEqual(await schemaVersion(), "1");
    const leftover = await withDb(
      async (db) => (await db.query("select to_regclass('written_after_upgrade') as t")).rows[0].t,
    );
    assert.strictEqual(leftover, null, "data written after the snapshot survived the restore");
    for (const [name, r] of Object.entries(replicas())) {
      assert.strictEqual(r.replicas, 1, `${name} was not scaled back`);
      assert.strictEqual(r.recorded, undefined, `${name} still carries the replicas annotation`);
    }
  }

  before(async () => {
    ({ project, stack } = await firstInstallStack(STACK, "v1.4.0"));
    await stack.setAllConfig({
      "release-runbook:protected": { value: "true" },
      "release-runbook:allowUnverifiedDatabaseTls": { value: "e2e: the loopback test server has no TLS" },
    });
  });

  it("up v1, then the acknowledged upgrade to v1.5.0 that migrates the schema", async () => {
    assert.ifError((await up(stack)).error);
    await setFixtureMode({ adminExists: true });
    await upgradeToV150();
  });

  it("the plan runs a real preview and every preflight check of version 1, and changes nothing", async () => {
    const before = {
      db: await databaseChecksum(),
      revisions: helmRevisions(),
      file: fs.readFileSync(stackFile(), "utf8"),
    };
    const plan = toV1("--json");
    assert.strictEqual(plan.status, 0, plan.stdout + plan.stderr);
    const proof = plan.json.proof;
    assert.strictEqual(proof.preview.ok, true, JSON.stringify(proof.preview));
    assert.strictEqual(proof.preflight.ok, true, JSON.stringify(proof.preflight.checks));
    const gate = proof.preflight.checks.find((c: { name: string }) => c.name === "minor-version-gate");
    assert.match(gate.detail, /back to a version this stack already ran/, "the gate asked for an acknowledgement");
    const guard = proof.preflight.checks.find((c: { name: string }) => c.name === "schema-guard");
    assert.match(guard.detail, /after the restore \(schema 1\)/);
    assert.strictEqual(proof.values.state, "same");
    // Every non-secret key goes back, not only the tags: acknowledgeUpgrade was not set at version 1.
    const keys = proof.configChanges.map((c: { key: string }) => c.key);
    assert.ok(
      keys.includes("release-runbook:imageTags") && keys.includes("release-runbook:acknowledgeUpgrade"),
      keys.join(),
    );
    assert.strictEqual(await databaseChecksum(), before.db);
    assert.deepStrictEqual(helmRevisions(), before.revisions);
    assert.strictEqual(fs.readFileSync(stackFile(), "utf8"), before.file, "the plan changed the stack file");
    assert.deepStrictEqual(journals(), []);
    const text = toV1();
    process.stdout.write(`\n--- plan (text) ---\n${text.stdout}\n`);
  });

  it("a rollback whose preview fails changes nothing: database checksum and release revision unchanged", async () => {
    const before = {
      db: await databaseChecksum(),
      revisions: helmRevisions(),
      file: fs.readFileSync(stackFile(), "utf8"),
    };
    // The local chart of version 1 is not at this checkout (as when it moved on since): its Chart.yaml is gone.
    const chartYaml = path.join(project.dir, "test", "fixtures", "charts", "alexandria-ee", "Chart.yaml");
    const saved = fs.readFileSync(chartYaml);
    fs.rmSync(chartYaml);
    let refused;
    try {
      refused = toV1("--yes", "--json");
    } finally {
      fs.writeFileSync(chartYaml, saved);
    }
    assert.strictEqual(refused.status, 1, refused.stdout + refused.stderr);
    assert.strictEqual(refused.json.applied, false);
    assert.strictEqual(refused.json.proof.preview.ok, false);
    assert.ok(
      refused.json.proof.refusals.some((r: string) => /pulumi preview of version 1's config fails/.test(r)),
      JSON.stringify(refused.json.proof.refusals),
    );
    assert.strictEqual(await databaseChecksum(), before.db, "the database changed");
    assert.deepStrictEqual(helmRevisions(), before.revisions, "the release changed");
    assert.strictEqual(fs.readFileSync(stackFile(), "utf8"), before.file, "the stack file changed");
    assert.strictEqual(deployedImages().api, `${REGISTRY}/alexandria/api:v1.5.0`);
    assert.deepStrictEqual(journals(), [], "a refused rollback started a journal");
  });

  it("two rollbacks at once: the second is refused, naming the first; the first (protected, with a restore) succeeds, scaling down before the restore", async () => {
    const env = { ...process.env, ...pulumiEnv(project.backend), PG_DSN: process.env.RUNBOOK_E2E_ADMIN_DSN };
    const first = spawn(
      process.execPath,
      [
        path.join(project.dir, "bin", "runbook.js"),
        "rollback",
        "--stack",
        STACK,
        "--to",
        "1",
        "--restore-snapshot",
        "auto",
        "--yes",
      ],
      { cwd: project.dir, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    first.stdout.on("data", (d) => (out += d));
    first.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => first.on("close", resolve));
    // Wait until the first holds the lock (its session names it in pg_stat_activity).
    for (let i = 0; ; i++) {
      const held = await withDb(
        async (db) =>
          (
            await db.query(
              "select 1 from pg_stat_activity where application_name like 'runbook-lock:% rollback --to 1 %'",
            )
          ).rowCount,
      );
      if (held) break;
      assert.ok(i < 300, `the first rollback never took the lock:\n${err}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const second = toV1("--yes", "--json");
    assert.strictEqual(second.status, 1, second.stdout + second.stderr);
    assert.match(
      String(second.json.error),
      new RegExp(
        `holds the lock on database alexandria: runbook rollback --to 1 by \\S+@\\S+ \\(pid ${first.pid}\\) since \\d{4}-`,
      ),
    );
    const code = await exited;
    process.stdout.write(`\n--- protected-stack rollback with restore (stderr, then stdout) ---\n${err}\n${out}\n`);
    assert.strictEqual(code, 0, err + out);
    await assertAtV1();
    const [name] = journals();
    const journal = readJournal(name);
    assert.strictEqual(journal.status, "completed");
    assert.deepStrictEqual(
      journal.workloads.map((w: { replicas: number }) => w.replicas),
      [1, 1, 1],
      "the journal did not record the replicas",
    );
    // The order: every workload at zero before the restore began, and the release applied after it.
    const restoreJournal = JSON.parse(fs.readFileSync(journal.restore.journal, "utf8"));
    assert.ok(journal.completedAt["scaled-down"] < restoreJournal.startedAt, JSON.stringify(journal.completedAt));
    assert.ok(restoreJournal.updatedAt <= journal.completedAt["release-applied"]);
    keptDatabases.add(journal.restore.keptDatabase);
    const history = await stack.history();
    assert.strictEqual(history[0].result, "succeeded");
  });

  /** Runs the CLI with the test crash hook: it kills itself (SIGKILL) right after `step`, before the journal records it. */
  const killedAfter = (step: string, run: () => ReturnType<typeof runbook>) => {
    process.env.RUNBOOK_TEST_CRASH_AFTER = step;
    try {
      return run();
    } finally {
      delete process.env.RUNBOOK_TEST_CRASH_AFTER;
    }
  };

  for (const step of ["scaled-down", "database-restored", "release-applied", "verified"]) {
    it(`--resume after the rollback is killed right after ${step} ends at version 1 with the database restored`, async () => {
      await upgradeToV150();
      const earlier = journals();
      const killed = killedAfter(step, () => toV1("--yes"));
      assert.strictEqual(killed.signal, "SIGKILL", `not killed: ${killed.stdout}${killed.stderr}`);
      const [name] = journals().filter((j) => !earlier.includes(j));
      const journal = readJournal(name);
      assert.strictEqual(journal.status, "running");
      assert.strictEqual(journal.doing, step, "the journal should be one step behind what happened");
      if (step === "scaled-down") {
        // The cluster records the replicas too, and nothing runs against the database now.
        for (const [d, r] of Object.entries(replicas())) {
          assert.strictEqual(r.replicas, 0, `${d} still runs`);
          assert.strictEqual(r.recorded, "1", `${d} carries no record of its replicas`);
        }
        assert.strictEqual(await schemaVersion(), "2", "the database changed before the restore step");
      }
      const resumed = rollback("--resume");
      if (step === "scaled-down") {
        process.stdout.write(
          `\n--- rollback --resume after a kill right after ${step} (stderr, then stdout) ---\n${resumed.stderr}\n${resumed.stdout}\n`,
        );
      }
      assert.strictEqual(resumed.status, 0, resumed.stdout + resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`resumed the rollback recorded in .* after step`));
      await assertAtV1();
      assert.strictEqual(readJournal(name).status, "completed");
    });
  }

  it("--abort after the release was applied puts the database, the release, the replicas and the stack file back; no kept database is dropped", async () => {
    await upgradeToV150();
    const before = { db: await databaseChecksum(), file: fs.readFileSync(stackFile(), "utf8") };
    const earlier = journals();
    const killed = killedAfter("release-applied", () => toV1("--yes"));
    assert.strictEqual(killed.signal, "SIGKILL", killed.stdout + killed.stderr);
    assert.strictEqual(deployedImages().api, `${REGISTRY}/alexandria/api:v1.4.0`);
    assert.strictEqual(await schemaVersion(), "1");
    const aborted = rollback("--abort");
    process.stdout.write(`\n--- rollback --abort ---\n${aborted.stdout}\n`);
    assert.strictEqual(aborted.status, 0, aborted.stdout + aborted.stderr);
    assert.strictEqual(await databaseChecksum(), before.db, "the pre-rollback database is not back");
    assert.strictEqual(deployedImages().api, `${REGISTRY}/alexandria/api:v1.5.0`);
    for (const [d, r] of Object.entries(replicas())) {
      assert.strictEqual(r.replicas, 1, `${d} was not scaled back`);
      assert.strictEqual(r.recorded, undefined);
    }
    assert.strictEqual(fs.readFileSync(stackFile(), "utf8"), before.file, "the stack file is not as it was");
    const [name] = journals().filter((j) => !earlier.includes(j));
    assert.strictEqual(readJournal(name).status, "aborted");
    const kept = keptOfThisSuite();
    const present = await withDb(
      async (db) => (await db.query("select datname from pg_database where datname = any($1)", [kept])).rows.length,
    );
    assert.strictEqual(present, kept.length, "a kept database was dropped");
  });

  /** The databases the restores of this suite kept (their journals are in its snapshot directory). */
  const keptOfThisSuite = (): string[] =>
    fs.existsSync(project.snapshots)
      ? fs
          .readdirSync(project.snapshots)
          .filter((f) => f.endsWith(".restore-journal.json"))
          .map((f) => String(JSON.parse(fs.readFileSync(path.join(project.snapshots, f), "utf8")).kept))
      : [];

  after(async () => {
    if (project !== undefined) for (const name of keptOfThisSuite()) keptDatabases.add(name);
    if (keptDatabases.size > 0) {
      await withDb(async (db) => {
        for (const name of keptDatabases) await db.query(`drop database if exists "${name}" with (force)`);
      });
    }
    removeProjectCopy(project);
  });
});
