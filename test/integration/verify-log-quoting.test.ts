import assert from "node:assert/strict";
import { AlexandriaApiFixture, startAlexandriaApi } from "../fixtures/alexandria-api/server";
import { createFakeKubectl, FakeKubectl, helmReleaseSecrets } from "../fixtures/alexandria-api/fake-kubectl";
import { buildCli, runCli } from "../support/postgres";

describe("verify: api-logs quotes no application values (fake kubectl on PATH)", function () {
  this.timeout(60_000);
  let api: AlexandriaApiFixture;
  let kubectl: FakeKubectl;

  before(async function () {
    this.timeout(120_000);
    await buildCli();
  });
  beforeEach(async () => {
    api = await startAlexandriaApi();
    kubectl = createFakeKubectl({
      "get secrets": { stdout: helmReleaseSecrets("alexandria-ee", [{ revision: 7, status: "deployed" }]) },
    });
  });
  afterEach(async () => {
    await api.close();
    kubectl.remove();
  });

  it("a startup error holding a password, a DSN and a token is reported by pattern and count only", async () => {
    kubectl.answer("logs -l", {
      stdout:
        '[pod/a/api] level=info msg="listening"\n' +
        "[pod/a/api] ERROR db connect failed password=hunter2 dsn=postgres://u:s3cret@h/db token=eyJabc.def\n",
    });
    const run = await runCli(
      [
        "verify",
        "--base-url",
        api.url,
        "--expect-tier",
        "enterprise",
        "--namespace",
        "prod",
        "--release",
        "alexandria-ee",
        "--json",
      ],
      kubectl.cliOptions(),
    );
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
