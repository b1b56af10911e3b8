import assert from "node:assert/strict";
import { AlexandriaApiFixture, startAlexandriaApi } from "../fixtures/alexandria-api/server";
import { FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { buildCli } from "../support/postgres";
import { PROD, PROD_RELEASE, runVerify, startProdCluster } from "../support/prodCluster";

describe("verify: api-logs quotes no application values (fake API server)", function () {
  this.timeout(60_000);
  let api: AlexandriaApiFixture;
  let kube: FakeKubeApi;

  before(async function () {
    this.timeout(120_000);
    await buildCli();
  });
  beforeEach(async () => {
    api = await startAlexandriaApi();
    kube = await startProdCluster({
      revisions: [{ revision: 7, status: "deployed" }],
      pods: [{ name: "alexandria-ee-api-1" }],
    });
  });
  afterEach(async () => {
    await api.close();
    await kube.close();
  });

  it("a startup error holding a password, a DSN and a token is reported by pattern and count only", async () => {
    kube.answer(
      PROD.logOf("alexandria-ee-api-1"),
      'level=info msg="listening"\n' +
        "ERROR db connect failed password=hunter2 dsn=postgres://u:s3cret@h/db token=eyJabc.def\n",
    );
    const run = await runVerify(api.url, [...PROD_RELEASE, "--json"], kube.cliOptions());
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const logs = (run.json?.checks as { name: string; ok: boolean; detail: string }[]).find(
      (c) => c.name === "api-logs",
    );
    assert.ok(logs !== undefined && !logs.ok, run.stdout);
    assert.match(logs.detail, /^1 of the last 2 api log line\(s\) look like startup errors: \[ERROR\] /);
    for (const secret of ["hunter2", "s3cret", "eyJabc"]) {
      assert.ok(!run.stdout.includes(secret), `${secret} in ${run.stdout}`);
      assert.ok(!run.stderr.includes(secret), `${secret} in ${run.stderr}`);
    }
  });
});
