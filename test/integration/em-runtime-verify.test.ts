/**
 * em-runtime's verification: the health path, and the governance, assets and utils Deployments' logs checked
 * for the migration errors of the upgrade guide's troubleshooting section. A component without logs to read is
 * skipped saying why, never passed on 0 lines. The CLI against a fake Kubernetes API and the application
 * fixture (a real HTTP server).
 */
import assert from "node:assert/strict";
import { AlexandriaApiFixture, startAlexandriaApi } from "../fixtures/alexandria-api/server";
import { componentLabels, EmPod } from "../fixtures/alexandria-api/em-runtime-objects";
import { FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { buildCli, CliRun, runCli } from "../support/postgres";
import { EM, EM_RELEASE, EM_RELEASE_NAME, EmNamespace, startEmCluster } from "../support/emCluster";

const COMPONENTS = ["governance", "assets", "utils"];

interface Check {
  name: string;
  ok: boolean;
  skipped?: boolean;
  detail: string;
}

function checks(run: CliRun): Check[] {
  return (run.json?.checks ?? []) as Check[];
}

function checkOf(run: CliRun, name: string): Check {
  const found = checks(run).find((c) => c.name === name);
  assert.ok(found, `no check ${name}: ${run.stdout}${run.stderr}`);
  return found;
}

const podOf = (component: string): EmPod => ({
  name: `em-runtime-${component}-7d9f-abcde`,
  labels: componentLabels(EM_RELEASE_NAME, component),
  containers: [{ name: component }],
});

describe("em-runtime verification: the health path and the components' logs", function () {
  this.timeout(60_000);
  let api: AlexandriaApiFixture;
  let kube: FakeKubeApi | undefined;

  before(async function () {
    this.timeout(120_000);
    await buildCli();
  });
  beforeEach(async () => {
    api = await startAlexandriaApi();
  });
  afterEach(async () => {
    await api.close();
    await kube?.close();
    kube = undefined;
  });

  const cluster = async (patch: Partial<EmNamespace> = {}, logs: Record<string, string> = {}) => {
    kube = await startEmCluster({
      revisions: [{ revision: 4, status: "deployed" }],
      pods: COMPONENTS.map(podOf),
      deployments: COMPONENTS,
      ...patch,
    });
    for (const c of COMPONENTS) {
      kube.answer(
        EM.logOf(`em-runtime-${c}-7d9f-abcde`),
        logs[c] ?? `INFO  [alembic.runtime.migration] Running upgrade a1 -> b2, add ${c} table\nINFO ready\n`,
      );
    }
    return kube;
  };

  const verify = (...extra: string[]) =>
    runCli(
      [
        "verify",
        "--base-url",
        api.url,
        "--health-path",
        "/api/governance/health",
        ...EM_RELEASE,
        "--log-components",
        COMPONENTS.join(","),
        "--ready-timeout",
        "2",
        "--json",
        ...extra,
      ],
      kube!.cliOptions(),
    );

  it("passes: health 200 and every component's Deployment logs free of migration errors", async () => {
    await cluster();
    const run = await verify("--log-lines", "30");
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(
      checks(run).map((c) => [c.name, c.ok, c.skipped ?? false]),
      [
        ["health", true, false],
        ["governance-logs", true, false],
        ["assets-logs", true, false],
        ["utils-logs", true, false],
      ],
    );
    assert.match(
      checkOf(run, "governance-logs").detail,
      /^2 line\(s\) of 1 container log\(s\) \(em-runtime-governance-7d9f-abcde\/governance\), none matching alembic multiple heads/,
    );
    // kubectl logs deploy/em-runtime-governance: the Deployment's selector, then its pods' logs.
    const asked = kube!.requests().filter((r) => r.path === EM.pods || r.path.endsWith("/log"));
    assert.ok(
      asked.some(
        (r) =>
          r.path === EM.pods &&
          r.query.labelSelector === "app.kubernetes.io/instance=em-runtime,app.kubernetes.io/component=governance",
      ),
      JSON.stringify(asked.map((r) => [r.path, r.query])),
    );
    assert.ok(
      asked.some(
        (r) =>
          r.path === EM.logOf("em-runtime-governance-7d9f-abcde") &&
          r.query.container === "governance" &&
          r.query.tailLines === "30",
      ),
    );
  });

  it("fails the component whose logs show a migration conflict, masked, and the way back names runbook diagnose", async () => {
    await cluster(
      {},
      {
        governance:
          "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n" +
          "ERROR [alembic.util.messaging] Multiple head revisions are present for given argument 'head'; " +
          "dsn=postgresql://governance:gov-pw-93f1@postgres:5432/governance\n" +
          "FAILED: Multiple head revisions are present\n",
      },
    );
    const run = await verify("--context", "fake");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const governance = checkOf(run, "governance-logs");
    assert.equal(governance.ok, false);
    assert.match(
      governance.detail,
      /^2 of the last 3 governance log line\(s\) look like migration errors: \[alembic multiple heads\] /,
    );
    assert.equal(checkOf(run, "assets-logs").ok, true);
    assert.ok(!run.stdout.includes("gov-pw-93f1") && !run.stderr.includes("gov-pw-93f1"), run.stdout);
    const wayBack = (run.json?.wayBack ?? []) as string[];
    assert.match(
      wayBack[0] ?? "",
      /^runbook diagnose --namespace em --release em-runtime --context fake {2}\(why it failed/,
    );
    assert.match(run.stderr, /runbook diagnose --namespace em --release em-runtime --context fake/);
  });

  it("a missing database, a missing extension and a settings validation error are each named", async () => {
    await cluster(
      {},
      {
        governance: 'sqlalchemy.exc.OperationalError: FATAL:  database "governance" does not exist\n',
        assets: 'psycopg.errors.FeatureNotSupported: extension "vector" is not available\n',
        utils: "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\n",
      },
    );
    const run = await verify();
    assert.equal(run.code, 1);
    assert.match(checkOf(run, "governance-logs").detail, /\[database does not exist\]/);
    assert.match(checkOf(run, "assets-logs").detail, /\[missing extension\]/);
    assert.match(checkOf(run, "utils-logs").detail, /\[settings validation\]/);
  });

  it("a component with no Deployment, no pods, or no lines is skipped saying why, never ok on 0 lines", async () => {
    await cluster({ deployments: ["governance", "assets"], pods: [podOf("governance")] }, { governance: "" });
    const run = await verify();
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const [governance, assets, utils] = ["governance-logs", "assets-logs", "utils-logs"].map((n) => checkOf(run, n));
    assert.equal(governance!.skipped, true);
    assert.match(
      governance!.detail,
      /^1 container log\(s\) \(em-runtime-governance-7d9f-abcde\/governance\) hold no lines yet: nothing to check$/,
    );
    assert.equal(assets!.skipped, true);
    assert.match(assets!.detail, /^Deployment em-runtime-assets has no running pods/);
    assert.equal(utils!.skipped, true);
    assert.match(utils!.detail, /has no Deployment of utils \(em-runtime-utils\): no utils logs to read/);
  });

  it("an application with no log source: one check `logs`, skipped saying so", async () => {
    await cluster();
    const run = await runCli(
      [
        "verify",
        "--base-url",
        api.url,
        "--health-path",
        "/api/governance/health",
        ...EM_RELEASE,
        "--no-logs",
        "--json",
      ],
      kube!.cliOptions(),
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(
      checks(run).map((c) => [c.name, c.skipped ?? false, c.detail]),
      [
        ["health", false, checkOf(run, "health").detail],
        ["logs", true, "the application's profile names no log source: no logs were read"],
      ],
    );
    assert.ok(!kube!.requests().some((r) => r.path.endsWith("/log")));
  });

  it("fails health when the health path answers 503", async () => {
    await cluster();
    api.setMode({ healthy: false });
    const run = await verify("--ready-timeout", "1");
    assert.equal(run.code, 1);
    assert.match(checkOf(run, "health").detail, /\/api\/governance\/health did not answer 200 within 1\.0s/);
  });

  it("exits 2 for a bad component list", async () => {
    await cluster();
    const run = await verify("--log-components", "governance,Assets");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--log-components 'governance,Assets' is not a comma list of component names/);
  });
});
