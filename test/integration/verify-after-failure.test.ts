/**
 * A failed verification decides by the schema: when the live schema version is the pre-upgrade snapshot's,
 * the release is rolled back (helm rollback, a recording stand-in here) to the revision that served before
 * and verified again; when it moved, nothing is rolled back and the way back names the restore.
 */
import assert from "node:assert/strict";
import { AlexandriaApiFixture, startAlexandriaApi } from "../fixtures/alexandria-api/server";
import { FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { fakeHelm } from "../support/fakeHelm";
import { buildCli, dsnFor } from "../support/postgres";
import { PROD_RELEASE, runVerify, startProdCluster } from "../support/prodCluster";

describe("verify: after a failed check, decided by the schema", function () {
  this.timeout(60_000);
  let api: AlexandriaApiFixture;
  let kube: FakeKubeApi;
  let helm: ReturnType<typeof fakeHelm>;

  before(async function () {
    this.timeout(120_000);
    await buildCli();
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
    const opts = kube.cliOptions({ PG_DSN: dsnFor("postgres"), HELM_TEST_FIXTURE_URL: api.url });
    return runVerify(
      api.url,
      [
        "--ready-timeout",
        "2",
        ...PROD_RELEASE,
        "--served-before",
        "6",
        "--schema-version-query",
        "select '41'",
        "--stack",
        "prod",
        "--pre-upgrade-snapshot",
        "/snapshots/prod/alexandria-ee-1a2b3c4d",
        "--json",
        ...extra,
      ],
      { ...opts, pathPrefix: [helm.dir] },
    );
  };

  it("the schema did not move: rolls back to the revision that served before, verifies it, and still fails", async () => {
    const run = await verify("--pre-upgrade-schema", "41", "--auto-rollback", "--helm-timeout", "30");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.deepEqual(helm.calls(), [
      ["rollback", "alexandria-ee", "6", "--namespace", "prod", "--wait", "--timeout", "30s"],
    ]);
    const after = run.json?.afterFailure as { rolledBackTo?: number; reverify?: { ok: boolean } };
    assert.ok(after !== undefined, run.stdout);
    assert.equal(after.rolledBackTo, 6);
    assert.equal(after.reverify?.ok, true, run.stdout);
    const ready = (run.json?.checks as { name: string; ok: boolean }[]).find((c) => c.name === "ready");
    assert.equal(ready?.ok, false, "the failed check is still reported");
    const decision = (run.json?.afterFailure as { decision: { reason: string } }).decision;
    assert.equal(decision.reason, "the schema did not move (41)");
  });

  it("the schema moved: nothing is rolled back, and the way back names the rollback with the restore", async () => {
    const run = await verify("--pre-upgrade-schema", "40", "--auto-rollback");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.deepEqual(helm.calls(), []);
    const wayBack = (run.json?.wayBack as string[]).join("\n");
    assert.match(
      wayBack,
      /runbook rollback --stack prod --to last-good --restore-snapshot \/snapshots\/prod\/alexandria-ee-1a2b3c4d --yes/,
    );
    assert.match(wayBack, /schema moved from 40 to 41/);
  });

  it("autoRollback off: reports the decision, rolls nothing back", async () => {
    const run = await verify("--pre-upgrade-schema", "41");
    assert.equal(run.code, 1);
    assert.deepEqual(helm.calls(), []);
    assert.equal((run.json?.afterFailure as { decision: { action: string } }).decision.action, "roll-back");
  });
});
