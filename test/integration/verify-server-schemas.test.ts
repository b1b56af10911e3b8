/**
 * em-runtime's failed verification decides by the server snapshot: every database's alembic_version as its
 * manifest recorded it against the live one (real PostgreSQL). Unchanged everywhere: the release is rolled
 * back (a recording helm); any moved: it is kept and the way back restores the server snapshot. The test
 * server is shared, so the snapshot covers only this run's own databases (--include-database).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { AlexandriaApiFixture, startAlexandriaApi } from "../fixtures/alexandria-api/server";
import { FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { fakeHelm } from "../support/fakeHelm";
import { dsnFor, query, runCli, tempDir } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";
import { PROD_RELEASE, runVerify, startProdCluster } from "../support/prodCluster";

interface AfterFailureJson {
  decision: { action: string; reason: string; schemaMoved?: boolean };
  rolledBackTo?: number;
  reverify?: { ok: boolean };
}

describe("verify after a failed em-runtime upgrade: decided by the server snapshot's per-database schemas", function () {
  this.timeout(180_000);
  const { created } = postgresSuite();
  let governance: string;
  let assets: string;
  let snapshot: string;
  let api: AlexandriaApiFixture;
  let kube: FakeKubeApi;
  let helm: ReturnType<typeof fakeHelm>;

  before(async () => {
    governance = await created("srvv_gov");
    assets = await created("srvv_assets");
    await created("srvv_kc"); // no alembic_version, as Keycloak's database
    for (const [db, version] of [
      [governance, "gov0001"],
      [assets, "ast0001"],
    ]) {
      await query(
        db,
        `create table alembic_version (version_num varchar(32) primary key); insert into alembic_version values ('${version}')`,
      );
    }
    const outDir = tempDir("srvv");
    const run = await runCli(
      ["snapshot", "--all-databases", "--out-dir", outDir, "--include-database", `srvv_*_${process.pid}_*`, "--json"],
      { env: { PG_DSN: dsnFor(governance) } },
    );
    assert.equal(run.code, 0, run.stderr);
    snapshot = String(run.json!.path);
    assert.equal((run.json!.databases as unknown[]).length, 3);
  });
  beforeEach(async () => {
    api = await startAlexandriaApi({ readyNever: true });
    kube = await startProdCluster({
      revisions: [
        { revision: 6, status: "superseded" },
        { revision: 7, status: "deployed" },
      ],
      pods: [],
    });
    helm = fakeHelm();
  });
  afterEach(async () => {
    await api.close();
    await kube.close();
  });

  const verify = (...extra: string[]) => {
    const opts = kube.cliOptions({ PG_DSN: dsnFor(governance), HELM_TEST_FIXTURE_URL: api.url });
    return runVerify(
      api.url,
      [
        "--ready-timeout",
        "2",
        ...PROD_RELEASE,
        "--served-before",
        "6",
        "--pre-upgrade-server-snapshot",
        snapshot,
        "--auto-rollback",
        "--helm-timeout",
        "30",
        "--json",
        ...extra,
      ],
      { ...opts, pathPrefix: [helm.dir] },
    );
  };

  it("no database's schema moved: rolls the release back to the revision that served before", async () => {
    const run = await verify();
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const after = run.json?.afterFailure as AfterFailureJson;
    assert.equal(after.decision.action, "roll-back", run.stdout);
    assert.match(after.decision.reason, /no database's schema moved since the server snapshot/);
    assert.match(after.decision.reason, new RegExp(`${governance} gov0001`));
    assert.deepEqual(helm.calls(), [
      ["rollback", "alexandria-ee", "6", "--namespace", "prod", "--wait", "--timeout", "30s"],
    ]);
    assert.equal(after.rolledBackTo, 6);
    assert.equal(after.reverify?.ok, true);
  });

  it("one database's schema moved: the release is kept, and the way back restores the server snapshot", async () => {
    await query(assets, "update alembic_version set version_num = 'ast0002'");
    try {
      const run = await verify();
      assert.equal(run.code, 1, run.stdout + run.stderr);
      const after = run.json?.afterFailure as AfterFailureJson;
      assert.equal(after.decision.action, "hold", run.stdout);
      assert.equal(after.decision.schemaMoved, true);
      assert.match(after.decision.reason, new RegExp(`${assets} moved from ast0001 to ast0002`));
      assert.ok(!after.decision.reason.includes(`${governance} moved`), after.decision.reason);
      assert.deepEqual(helm.calls(), [], "helm rollback ran on a moved schema");
      const wayBack = run.json?.wayBack as string[];
      assert.match(wayBack[0], new RegExp(`^runbook restore --snapshot ${snapshot.replace(/[.]/g, "\\.")} --yes`));

      const text = await runVerify(
        api.url,
        ["--ready-timeout", "2", ...PROD_RELEASE, "--served-before", "6", "--pre-upgrade-server-snapshot", snapshot],
        kube.cliOptions({ PG_DSN: dsnFor(governance) }),
      );
      assert.equal(text.code, 1);
      assert.match(text.stdout, /the release was left as it is: the schema moved/);
      assert.match(text.stdout, /runbook restore --snapshot .* --yes/);
    } finally {
      await query(assets, "update alembic_version set version_num = 'ast0001'");
    }
  });

  it("a server snapshot that cannot be read keeps the release: whether a schema moved is unknown", async () => {
    const unreadable = await verify("--pre-upgrade-server-snapshot", path.join(tempDir("srvv-none"), "nothing"));
    // The later flag wins in node's parseArgs: the missing snapshot decides.
    const after = unreadable.json?.afterFailure as AfterFailureJson;
    assert.equal(after.decision.action, "hold", unreadable.stdout);
    assert.equal(after.decision.schemaMoved, false);
    assert.match(after.decision.reason, /unknown .*is not a server snapshot/);
    assert.deepEqual(helm.calls(), []);
  });

  it("refuses the single-database schema flags beside it", async () => {
    const run = await verify("--schema-version-query", "select 1");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--pre-upgrade-server-snapshot decides by each database's alembic_version/);
  });
});
