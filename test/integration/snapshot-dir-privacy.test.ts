import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { dsnFor, runCli, tempDir } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";

describe("runbook snapshot: an out-dir others can read (real PostgreSQL)", function () {
  this.timeout(120_000);
  const { seeded } = postgresSuite();
  let database: string;

  before(async () => {
    database = await seeded("rr_dirmode");
  });

  const openDir = (): string => {
    const dir = path.join(tempDir("dirmode"), "snapshots");
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o755);
    return dir;
  };
  const snapshot = (dir: string, ...extra: string[]) =>
    runCli(["snapshot", "--out-dir", dir, "--format", "custom", "--json", ...extra], {
      env: { PG_DSN: dsnFor(database) },
    });

  it("warns about a 0755 out-dir, naming it, its mode and the fix, and still takes the snapshot", async () => {
    const dir = openDir();
    const run = await snapshot(dir);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const warnings = run.json?.warnings as string[] | undefined;
    assert.equal(warnings?.length, 1, run.stdout);
    assert.ok(warnings[0].includes(dir), warnings[0]);
    assert.match(warnings[0], /mode 0755/);
    assert.ok(warnings[0].includes(`chmod 700 ${dir}`), warnings[0]);
    assert.ok(fs.existsSync(String(run.json?.path)), "the snapshot was not taken");
  });

  it("refuses a 0755 out-dir in a protected stack before writing anything", async () => {
    const dir = openDir();
    const run = await snapshot(dir, "--protected");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const said = run.stdout + run.stderr;
    assert.ok(said.includes(dir), said);
    assert.match(said, /mode 0755/);
    assert.ok(said.includes(`chmod 700 ${dir}`), said);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("takes the snapshot in a protected stack when the out-dir is 0700, without a warning", async () => {
    const dir = openDir();
    fs.chmodSync(dir, 0o700);
    const run = await snapshot(dir, "--protected");
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.json?.warnings, undefined);
  });
});
