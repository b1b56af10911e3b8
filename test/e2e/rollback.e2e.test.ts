import * as assert from "assert";
import * as fs from "node:fs";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  deployedImages,
  firstInstallStack,
  makeProjectCopy,
  REGISTRY,
  removeProjectCopy,
  runbook,
  setFixtureMode,
  setTags,
  up,
  withDb,
} from "./support/project";

const schemaVersion = () =>
  withDb(async (db) => String((await db.query("select max(version) as v from schema_migrations")).rows[0].v));

describe("e2e: rollback from stack history across a schema migration", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let stack: Stack;

  before(async () => {
    ({ project, stack } = await firstInstallStack("e2e-rollback", "v1.4.0"));
  });

  /** `runbook rollback --stack e2e-rollback --to 1` with these further flags. */
  const rollbackToV1 = (...flags: string[]) =>
    runbook(project, ["rollback", "--stack", "e2e-rollback", "--to", "1", ...flags]);

  it("up v1, then up v2 whose start-up migrates the schema", async () => {
    assert.ifError((await up(stack)).error);
    await setFixtureMode({ adminExists: true });
    assert.strictEqual(await schemaVersion(), "1");
    await setTags(stack, "v1.5.0");
    assert.ifError((await up(stack)).error);
    // What Alexandria's ApplySchema does when v1.5.0 starts: a forward-only migration.
    await withDb(async (db) => {
      await db.query("alter table users add column if not exists locale text default 'en'");
      await db.query("insert into schema_migrations (version, applied_at) values (2, now())");
      await db.query("create table if not exists written_after_upgrade (note text)");
      await db.query("insert into written_after_upgrade values ('v1.5.0 data')");
    });
    assert.strictEqual(await schemaVersion(), "2");
  });

  it("history lists both updates with the targets, snapshots and revisions", () => {
    const history = runbook(project, ["history", "--stack", "e2e-rollback", "--json"]);
    assert.strictEqual(history.status, 0, history.stderr);
    const entries = history.json.entries as {
      version: number;
      targets: { imageTags: Record<string, string> };
      snapshot?: { path: string; schemaVersion: string };
      releaseRevision?: number;
    }[];
    assert.deepStrictEqual(
      entries.map((e) => e.targets.imageTags.api),
      ["v1.4.0", "v1.5.0"],
    );
    assert.deepStrictEqual(
      entries.map((e) => e.releaseRevision),
      [1, 2],
    );
    assert.strictEqual(entries[1].snapshot?.schemaVersion, "1", "the snapshot before v2 must record schema 1");
  });

  it("refuses to roll back to v1 without restoring, and the plan says which snapshot", () => {
    const refused = rollbackToV1("--yes", "--json");
    assert.strictEqual(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(String(refused.json.plan.refusal), /schema is at 2 but version 1 .*ran with 1/);
    assert.strictEqual(
      deployedImages().api,
      `${REGISTRY}/alexandria/api:v1.5.0`,
      "a refused rollback changed the release",
    );
    const plan = rollbackToV1("--restore-snapshot", "auto", "--json");
    assert.strictEqual(plan.status, 0, plan.stderr);
    assert.strictEqual(plan.json.applied, false);
    assert.strictEqual(plan.json.plan.restore.needed, true);
  });

  it("rolls back with the restore: fresh snapshot, restore, release at v1, verified; history shows three updates", async () => {
    const result = rollbackToV1("--restore-snapshot", "auto", "--yes", "--json");
    process.stdout.write(`${result.stderr}\n`);
    assert.strictEqual(result.status, 0, result.stdout + result.stderr);
    assert.strictEqual(result.json.update.result, "succeeded");
    assert.strictEqual(deployedImages().api, `${REGISTRY}/alexandria/api:v1.4.0`);
    assert.strictEqual(await schemaVersion(), "1");
    const leftovers = await withDb(
      async (db) => (await db.query("select to_regclass('written_after_upgrade') as t")).rows[0].t,
    );
    assert.strictEqual(leftovers, null, "data written after the snapshot survived the restore");
    const pre = result.json.restore.preRestoreSnapshot as { path: string } | string;
    const prePath = typeof pre === "string" ? pre : pre.path;
    assert.ok(fs.existsSync(prePath), `pre-restore snapshot ${prePath} missing`);
    assert.match(String(result.json.update.outputs.verification), /ready=ok/);
    const history = await stack.history();
    assert.strictEqual(history.length, 3);
    assert.ok(
      history.every((h) => h.result === "succeeded"),
      JSON.stringify(history.map((h) => h.result)),
    );
  });

  after(() => removeProjectCopy(project));
});
