import assert from "node:assert/strict";
import { buildCli, CliRun, dsnFor, requirePostgres, runCli } from "../support/postgres";
import { OPEN_REGISTRY, pushTag, requireTestRegistries } from "../support/registry";

const REPO = `${OPEN_REGISTRY}/runbook-test`;
const PASSWORD_IN_DSN = "runbook-test-pw";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  warning?: string;
}

function databaseCheck(run: CliRun): Check {
  const found = (run.json?.checks as Check[] | undefined)?.find((c) => c.name === "database");
  assert.ok(found, `no database check in ${run.stdout}${run.stderr}`);
  return found;
}

describe("preflight: a protected stack's database TLS (CLI, real PostgreSQL)", function () {
  this.timeout(60_000);

  before(async function () {
    this.timeout(120_000);
    await requireTestRegistries();
    await requirePostgres();
    await pushTag({ registry: OPEN_REGISTRY, repository: "runbook-test/api", tag: "v1.3.0" });
    await buildCli();
  });

  const preflight = (dsn: string, ...extra: string[]) =>
    runCli(["preflight", "--skip-cluster", "--image", `api=${REPO}/api:v1.3.0`, "--json", ...extra], {
      env: { PG_DSN: dsn },
    });

  it("refuses sslmode=require when protected, naming the sslmode, the config key and the fix, never the DSN", async () => {
    const run = await preflight(`${dsnFor("postgres")}?sslmode=require`, "--protected");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const database = databaseCheck(run);
    assert.equal(database.ok, false);
    assert.match(database.detail, /sslmode=require/);
    assert.match(database.detail, /allowUnverifiedDatabaseTls/);
    assert.match(database.detail, /sslmode=verify-full&sslrootcert=/);
    assert.ok(!(run.stdout + run.stderr).includes(PASSWORD_IN_DSN), run.stdout);
    assert.ok(!(run.stdout + run.stderr).includes(dsnFor("postgres")), run.stdout);
  });

  it("refuses a DSN with no sslmode when protected: libpq's default, prefer, verifies nothing", async () => {
    const run = await preflight(dsnFor("postgres"), "--protected");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const database = databaseCheck(run);
    assert.equal(database.ok, false);
    assert.match(database.detail, /names no sslmode, so libpq uses prefer/);
    assert.match(database.detail, /allowUnverifiedDatabaseTls/);
  });

  it("passes with a warning quoting the reason given by --allow-unverified-database-tls", async () => {
    const reason = "the Cloud SQL proxy on this host verifies the server";
    const run = await preflight(dsnFor("postgres"), "--protected", "--allow-unverified-database-tls", reason);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const database = databaseCheck(run);
    assert.equal(database.ok, true);
    assert.match(database.detail, /^PostgreSQL \d+/);
    assert.ok(database.warning?.includes(`allowUnverifiedDatabaseTls: ${reason}`), JSON.stringify(database));
    assert.ok(!run.stdout.includes(PASSWORD_IN_DSN));
  });

  it("leaves an unprotected stack as it was: no refusal, no warning", async () => {
    for (const dsn of [dsnFor("postgres"), `${dsnFor("postgres")}?sslmode=disable`]) {
      const run = await preflight(dsn);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const database = databaseCheck(run);
      assert.equal(database.ok, true);
      assert.equal(database.warning, undefined);
    }
  });
});
