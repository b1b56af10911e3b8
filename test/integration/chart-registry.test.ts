/**
 * An oci:// chart in the auth registry of test/services/registry.sh, pulled and rendered by the real helm with
 * the chart registry's credentials: em-runtime's test chart pushed with `helm push`, then pulled at its pinned
 * version, rendered with `helm template`, and refused with a wrong password or none, the password nowhere in
 * the messages.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pullOciChart, ociRegistryOf, plainHttpArgs, withChartRegistryLogin } from "../../src/lib/helm/chart-registry";
import { renderChart } from "../../src/lib/diff/helm-template";
import { OperationFailed } from "../../src/lib/errors";
import { AUTH_REGISTRY, AUTH_REGISTRY_PASSWORD, AUTH_REGISTRY_USER, requireTestRegistries } from "../support/registry";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const CHART_DIR = path.join(REPO_ROOT, "test", "fixtures", "charts", "em-runtime");
const TOOLCHAIN_BIN = path.join(os.homedir(), ".cache", "release-runbook", "toolchain", "bin");
/** A repository of this test's own in the shared registry. */
const CHART = `oci://${AUTH_REGISTRY}/release-runbook-it/em-runtime`;
const VERSION = "0.10.0";
const GOOD = { username: AUTH_REGISTRY_USER, password: AUTH_REGISTRY_PASSWORD };
const WRONG_PASSWORD = "not-the-registry-pw-7f3a";

describe("oci:// charts with chart registry credentials (real helm, real auth registry)", function () {
  this.timeout(120_000);
  let env: NodeJS.ProcessEnv;
  let work: string;

  before(async () => {
    await requireTestRegistries();
    const pathWithHelm = [TOOLCHAIN_BIN, process.env.PATH ?? ""].join(path.delimiter);
    env = { PATH: pathWithHelm, HOME: os.homedir() };
    const version = spawnSync("helm", ["version", "--short"], { env, encoding: "utf8" });
    assert.equal(
      version.status,
      0,
      `helm was not found in ${TOOLCHAIN_BIN} or on PATH: run test/e2e/toolchain/build.sh helm`,
    );
    work = fs.mkdtempSync(path.join(os.tmpdir(), "chart-registry-it-"));
    // The chart pushed as the sandbox pushes it: packaged at VERSION, `helm push` through a private login.
    const pack = spawnSync("helm", ["package", CHART_DIR, "--version", VERSION, "--app-version", VERSION, "-d", work], {
      env,
      encoding: "utf8",
    });
    assert.equal(pack.status, 0, pack.stderr);
    await withChartRegistryLogin(CHART, GOOD, env, async (helmArgs) => {
      const push = spawnSync(
        "helm",
        [
          "push",
          path.join(work, `em-runtime-${VERSION}.tgz`),
          `oci://${AUTH_REGISTRY}/release-runbook-it`,
          ...helmArgs,
        ],
        { env, encoding: "utf8" },
      );
      assert.equal(push.status, 0, push.stderr);
    });
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("names the registry of an oci:// chart, and asks for plain HTTP on loopback only", () => {
    assert.equal(ociRegistryOf(CHART), AUTH_REGISTRY);
    assert.equal(ociRegistryOf("oci://ghcr.io/emergenceai/charts/em-runtime"), "ghcr.io");
    assert.deepEqual(plainHttpArgs("127.0.0.1:15001"), ["--plain-http"]);
    assert.deepEqual(plainHttpArgs("localhost:5000"), ["--plain-http"]);
    assert.deepEqual(plainHttpArgs("ghcr.io"), []);
    assert.throws(() => ociRegistryOf("oci://ghcr.io"), /oci:\/\/HOST\[:PORT\]\/PATH\/NAME/);
  });

  it("pulls the chart at its pinned version with the credentials, and leaves no login behind", async () => {
    const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("runbook-chart-registry-"));
    const archive = await pullOciChart(
      { chart: CHART, version: VERSION, credentials: GOOD, destination: path.join(work, "pulled") },
      env,
    );
    assert.equal(archive, path.join(work, "pulled", `em-runtime-${VERSION}.tgz`));
    const show = spawnSync("helm", ["show", "chart", archive], { env, encoding: "utf8" });
    assert.match(show.stdout, new RegExp(`^version: ${VERSION.replace(/\./g, "\\.")}$`, "m"));
    assert.deepEqual(fs.readdirSync(path.join(work, "pulled")), [`em-runtime-${VERSION}.tgz`]);
    const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("runbook-chart-registry-"));
    assert.deepEqual(after, before, "a temporary registry config was left behind");
  });

  it("a wrong password fails naming the registry and the user, never the password", async () => {
    const err = await pullOciChart(
      {
        chart: CHART,
        version: VERSION,
        credentials: { username: AUTH_REGISTRY_USER, password: WRONG_PASSWORD },
        destination: path.join(work, "wrong"),
      },
      env,
    ).then(
      () => assert.fail("the pull should have failed"),
      (e: Error) => e,
    );
    assert.ok(err instanceof OperationFailed, String(err));
    assert.match(
      err.message,
      new RegExp(`chart registry ${AUTH_REGISTRY.replace(/\./g, "\\.")} refused the login of user 'ci'`),
    );
    assert.match(err.message, /401|unauthorized/i);
    assert.ok(!err.message.includes(WRONG_PASSWORD), err.message);
    assert.deepEqual(fs.readdirSync(path.join(work, "wrong")), [], "a failed pull left files");
  });

  it("without credentials the pull fails saying none were given", async () => {
    const err = await pullOciChart({ chart: CHART, version: VERSION, destination: path.join(work, "none") }, env).then(
      () => assert.fail("the pull should have failed"),
      (e: Error) => e,
    );
    assert.match(err.message, /no chart registry credentials given/);
    assert.match(err.message, /basic credential not found|401|unauthorized/i);
  });

  it("helm template renders the oci:// chart with the same credentials (the preview's rendered diff)", async () => {
    const rendered = await renderChart(
      {
        release: "em-runtime",
        namespace: "em-runtime",
        chart: { kind: "repository", chart: CHART, version: VERSION },
        valuesFiles: [],
        values: {},
        isUpgrade: false,
        registryCredentials: GOOD,
      },
      env,
    );
    assert.match(rendered, /name: em-runtime-governance/);
    assert.match(rendered, /image: 127\.0\.0\.1:15000\/em-runtime\/governance:0\.10\.0/);
    const refused = await renderChart(
      {
        release: "em-runtime",
        namespace: "em-runtime",
        chart: { kind: "repository", chart: CHART, version: VERSION },
        valuesFiles: [],
        values: {},
        isUpgrade: false,
        registryCredentials: { username: AUTH_REGISTRY_USER, password: WRONG_PASSWORD },
      },
      env,
    ).then(
      () => assert.fail("the render should have failed"),
      (e: Error) => e,
    );
    assert.match(refused.message, /refused the login of user 'ci'/);
    assert.ok(!refused.message.includes(WRONG_PASSWORD), refused.message);
  });
});
