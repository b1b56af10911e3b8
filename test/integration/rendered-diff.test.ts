/**
 * The rendered diff end to end: the repo's test chart rendered by the real helm binary, compared with a live
 * release whose Helm record (manifest and hooks, as Helm stores them) the fake API server serves.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as YAML from "yaml";
import { startFakeKubeApi, FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { renderedDiff, RenderedDiffInput } from "../../src/lib/diff";
import { renderChart } from "../../src/lib/diff/helm-template";
import { encodeHelmReleaseRecord, helmReleaseSecretName } from "../../src/lib/kube/helm-release-record";
import { runCli } from "../support/postgres";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const CHART_DIR = path.join(REPO_ROOT, "test", "fixtures", "charts", "alexandria-ee");
/** Where test/e2e/toolchain/build.sh puts helm. */
const TOOLCHAIN_BIN = path.join(os.homedir(), ".cache", "release-runbook", "toolchain", "bin");
const NAMESPACE = "alexandria";
const RELEASE = "alexandria-ee";
const SECRET_BEFORE = "site-password-before-5e1a";
const SECRET_AFTER = "site-password-after-c07d";

/** What the live release was installed with: every optional object on except the ConfigMap. */
const LIVE_VALUES = {
  image: { api: { tag: "v1.4.0" }, orchestrator: { tag: "v1.4.0" }, dashboard: { tag: "v1.4.0" } },
  siteSecret: { enabled: true, values: { password: SECRET_BEFORE } },
  migrationHook: { enabled: true },
};

function input(values: Record<string, unknown> = LIVE_VALUES, namespace = NAMESPACE): RenderedDiffInput {
  return {
    release: RELEASE,
    namespace,
    chart: { kind: "local", path: CHART_DIR, version: "1.4.0" },
    valuesFiles: [path.join(CHART_DIR, "values.yaml"), path.join(CHART_DIR, "values-starter.yaml")],
    values,
  };
}

function withChange(change: Record<string, unknown>): Record<string, unknown> {
  return { ...LIVE_VALUES, ...change };
}

/** Helm's record of a revision: hooks (objects annotated helm.sh/hook) apart from the manifest. */
function releaseRecord(rendered: string, revision: number): unknown {
  const documents = rendered.split(/^---\n/m).filter((d) => d.trim() !== "");
  const hooks: unknown[] = [];
  const manifest: string[] = [];
  for (const document of documents) {
    const object = YAML.parse(document) as {
      kind: string;
      metadata: { name: string; annotations?: Record<string, string> };
    };
    const events = object.metadata.annotations?.["helm.sh/hook"];
    const sourcePath = /^# Source: (.+)$/m.exec(document)?.[1] ?? "";
    if (events === undefined) manifest.push(`---\n${document}`);
    else
      hooks.push({
        name: object.metadata.name,
        kind: object.kind,
        path: sourcePath,
        manifest: document,
        events: events.split(","),
      });
  }
  return {
    name: RELEASE,
    namespace: NAMESPACE,
    version: revision,
    info: { status: "deployed", description: "Upgrade complete" },
    chart: { metadata: { name: "alexandria-ee", version: "1.4.0", appVersion: "1.4.0" } },
    config: LIVE_VALUES,
    manifest: manifest.join(""),
    hooks,
  };
}

describe("runbook diff against a live release (real helm, fake API server)", function () {
  this.timeout(120_000);
  let api: FakeKubeApi;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    const pathWithHelm = [TOOLCHAIN_BIN, process.env.PATH ?? ""].join(path.delimiter);
    const version = spawnSync("helm", ["version", "--short"], { env: { PATH: pathWithHelm }, encoding: "utf8" });
    if (version.status !== 0) {
      throw new Error(
        `helm is needed for the rendered diff's tests and was not found in ${TOOLCHAIN_BIN} or on PATH ` +
          `(${version.error?.message ?? version.stderr.trim()}): build it with bash test/e2e/toolchain/build.sh`,
      );
    }
    api = await startFakeKubeApi();
    env = api.env({ PATH: pathWithHelm, HOME: os.homedir() });
    const revision = 3;
    const rendered = await renderChart({ ...input(), isUpgrade: true }, env);
    const secretsPath = `/api/v1/namespaces/${NAMESPACE}/secrets`;
    const recordName = helmReleaseSecretName(RELEASE, revision);
    api.answer(secretsPath, {
      kind: "SecretList",
      items: [
        {
          metadata: {
            name: helmReleaseSecretName(RELEASE, 2),
            labels: { owner: "helm", name: RELEASE, version: "2", status: "superseded" },
          },
        },
        {
          metadata: {
            name: recordName,
            labels: { owner: "helm", name: RELEASE, version: String(revision), status: "deployed" },
          },
        },
      ],
    });
    api.answer(`${secretsPath}/${recordName}`, {
      kind: "Secret",
      metadata: { name: recordName },
      data: { release: Buffer.from(encodeHelmReleaseRecord(releaseRecord(rendered, revision))).toString("base64") },
    });
    api.answer("/api/v1/namespaces/fresh/secrets", { kind: "SecretList", items: [] });
  });

  after(async () => {
    await api?.close();
  });

  it("an unchanged target changes nothing, hooks and Secret included", async () => {
    const diff = await renderedDiff(input(), env);
    assert.equal(diff.changed, false, diff.summary);
    assert.deepEqual(diff.live, { revision: 3, status: "deployed", chart: "alexandria-ee-1.4.0" });
    assert.equal(diff.summary, "no changes (5 objects unchanged)");
    assert.deepEqual(
      diff.objects.map((o) => `${o.key.kind}/${o.key.name}${o.hook === undefined ? "" : ` (${o.hook})`}`),
      [
        "Secret/alexandria-ee-site",
        "Deployment/alexandria-ee-api",
        "Deployment/alexandria-ee-dashboard",
        "Deployment/alexandria-ee-orchestrator",
        "Job/alexandria-ee-migrate (pre-upgrade)",
      ],
    );
    assert.deepEqual(diff.imageChanges, []);
  });

  it("a tag change shows the Deployment, the hook that runs the image, and the image change", async () => {
    const diff = await renderedDiff(
      input(withChange({ image: { ...LIVE_VALUES.image, api: { tag: "v1.5.0" } } })),
      env,
    );
    assert.equal(diff.summary, "Deployment: 1 changed; Job (hook): 1 changed");
    const api = diff.objects.find((o) => o.key.name === "alexandria-ee-api");
    assert.match(api?.diff ?? "", /^-\s+image: 127\.0\.0\.1:15000\/alexandria\/api:v1\.4\.0$/m);
    assert.match(api?.diff ?? "", /^\+\s+image: 127\.0\.0\.1:15000\/alexandria\/api:v1\.5\.0$/m);
    assert.deepEqual(
      diff.imageChanges.map((c) => `${c.object.kind} ${c.object.name} ${c.container}: ${c.from} → ${c.to}`),
      [
        "Deployment alexandria-ee-api api: 127.0.0.1:15000/alexandria/api:v1.4.0 → 127.0.0.1:15000/alexandria/api:v1.5.0",
        "Job alexandria-ee-migrate migrate: 127.0.0.1:15000/alexandria/api:v1.4.0 → 127.0.0.1:15000/alexandria/api:v1.5.0",
      ],
    );
  });

  it("a values change that switches on the ConfigMap shows it added, and nothing else", async () => {
    const diff = await renderedDiff(input(withChange({ siteConfig: { enabled: true, data: { mode: "fast" } } })), env);
    assert.equal(diff.summary, "ConfigMap: 1 added");
    const added = diff.objects.find((o) => o.change === "added");
    assert.equal(added?.key.name, "alexandria-ee-site");
    assert.match(added?.diff ?? "", /^\+ {2}mode: fast$/m);
  });

  it("a Secret change shows masked, and its values appear nowhere", async () => {
    const diff = await renderedDiff(
      input(withChange({ siteSecret: { enabled: true, values: { password: SECRET_AFTER } } })),
      env,
    );
    assert.equal(diff.summary, "Secret: 1 changed");
    const secret = diff.objects.find((o) => o.key.kind === "Secret");
    assert.match(secret?.diff ?? "", /^-\s+password: "\*\*\* \(before\)"$/m);
    assert.match(secret?.diff ?? "", /^\+\s+password: "\*\*\* \(changed\)"$/m);
    const printed = JSON.stringify(diff);
    for (const value of [SECRET_BEFORE, SECRET_AFTER]) {
      assert.ok(!printed.includes(value) && !printed.includes(Buffer.from(value).toString("base64")));
    }
  });

  it("a release not installed yet: every object added", async () => {
    const diff = await renderedDiff(input(LIVE_VALUES, "fresh"), env);
    assert.equal(diff.live, undefined);
    assert.equal(diff.summary, "Secret: 1 added; Deployment: 3 added; Job (hook): 1 added");
  });

  describe("the CLI", () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-diff-test-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function cliArgs(values: Record<string, unknown>): string[] {
      const valuesFile = path.join(dir, `values-${Math.random().toString(16).slice(2)}.json`);
      fs.writeFileSync(valuesFile, JSON.stringify(values), { mode: 0o600 });
      return [
        "diff",
        "--release",
        RELEASE,
        "--namespace",
        NAMESPACE,
        "--chart",
        CHART_DIR,
        "--chart-version",
        "1.4.0",
        "--values",
        path.join(CHART_DIR, "values.yaml"),
        "--values",
        path.join(CHART_DIR, "values-starter.yaml"),
        "--set-json",
        valuesFile,
      ];
    }

    it("prints the diffs, the summary and the image changes; --exit-code exits 3 on changes", async () => {
      const values = withChange({
        image: { ...LIVE_VALUES.image, api: { tag: "v1.5.0" } },
        siteSecret: { enabled: true, values: { password: SECRET_AFTER } },
      });
      const run = await runCli([...cliArgs(values), "--exit-code"], { env: env });
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stdout, /^\+\+\+ target: Deployment\.apps alexandria\/alexandria-ee-api$/m);
      assert.match(run.stdout, /^Secret: 1 changed; Deployment: 1 changed; Job \(hook\): 1 changed$/m);
      assert.match(
        run.stdout,
        /^ {2}Deployment\.apps alexandria\/alexandria-ee-api api: \S+:v1\.4\.0 → \S+:v1\.5\.0$/m,
      );
      for (const value of [SECRET_BEFORE, SECRET_AFTER]) {
        assert.ok(!(run.stdout + run.stderr).includes(value), `${value} is printed`);
        assert.ok(!(run.stdout + run.stderr).includes(Buffer.from(value).toString("base64")));
      }
    });

    it("--json prints one object without Secret values; no changes exits 0 even with --exit-code", async () => {
      const changed = await runCli(
        [...cliArgs(withChange({ siteSecret: { enabled: true, values: { password: SECRET_AFTER } } })), "--json"],
        { env },
      );
      assert.equal(changed.code, 0, changed.stderr);
      assert.equal(changed.json?.changed, true);
      assert.equal(changed.json?.summary, "Secret: 1 changed");
      assert.ok(!changed.stdout.includes(SECRET_AFTER) && !changed.stdout.includes(SECRET_BEFORE));
      const same = await runCli([...cliArgs(LIVE_VALUES), "--json", "--exit-code"], { env });
      assert.equal(same.code, 0, same.stderr);
      assert.equal(same.json?.changed, false);
    });

    it("without helm it fails (exit 1) saying helm is missing", async () => {
      const run = await runCli(cliArgs(LIVE_VALUES), { env: { ...env, PATH: "/nonexistent" } });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /helm is not on PATH/);
    });
  });
});
