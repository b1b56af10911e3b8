import * as assert from "assert";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AlexandriaApiFixture, startAlexandriaApi } from "../fixtures/alexandria-api/server";
import { podList } from "../fixtures/alexandria-api/cluster-objects";
import { FakeKubeApi, startFakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { assessLicense } from "../../src/lib/verify/license";
import { findStartupErrors, maskUrlPasswords } from "../../src/lib/verify/startup-errors";
import { readContainerLogs } from "../../src/lib/kube";
import { buildCli, CliRun, runCli } from "../support/postgres";
import { PROD, PROD_RELEASE, runVerify, startProdCluster } from "../support/prodCluster";

function json(run: CliRun): {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; warning?: string; skipped?: boolean }[];
  wayBack?: string[];
} {
  const lines = run.stdout.trim().split("\n");
  assert.strictEqual(lines.length, 1, `--json must print one line, got:\n${run.stdout}`);
  return JSON.parse(lines[0]!);
}

function check(run: CliRun, name: string) {
  const found = json(run).checks.find((c) => c.name === name);
  assert.ok(found, `no check ${name} in ${run.stdout}`);
  return found;
}

describe("verify (CLI against the Alexandria API fixture)", function () {
  this.timeout(60_000);
  let api: AlexandriaApiFixture;

  before(async function () {
    this.timeout(120_000);
    await buildCli();
  });
  beforeEach(async () => {
    api = await startAlexandriaApi();
  });
  afterEach(async () => {
    await api.close();
  });

  const verify = (...extra: string[]) => runVerify(api.url, extra);

  it("passes a healthy upgrade and prints PASS per check, SKIP for api-logs without a release", async () => {
    const run = await verify();
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^PASS {2}ready/m);
    assert.match(run.stdout, /^PASS {2}auth-setup/m);
    assert.match(run.stdout, /^PASS {2}license/m);
    assert.match(run.stdout, /^SKIP {2}api-logs/m);
  });

  it("--json prints one object with one entry per check", async () => {
    const run = await verify("--json");
    assert.strictEqual(run.code, 0);
    const out = json(run);
    assert.strictEqual(out.ok, true);
    assert.deepStrictEqual(
      out.checks.map((c) => c.name),
      ["ready", "auth-setup", "license", "api-logs"],
    );
    for (const c of out.checks) {
      assert.strictEqual(typeof c.ok, "boolean");
      assert.strictEqual(typeof c.detail, "string");
    }
    assert.strictEqual(check(run, "api-logs").skipped, true);
    assert.strictEqual(out.wayBack, undefined);
  });

  it("waits for a slow /ready with backoff, then passes", async () => {
    api.setMode({ readyAfterRequests: 3 });
    const run = await verify("--ready-timeout", "30", "--json");
    assert.strictEqual(run.code, 0, run.stdout);
    assert.match(check(run, "ready").detail, /answered 200 after 4 attempt/);
    assert.strictEqual(api.requestCounts()["/ready"], 4);
  });

  it("fails `ready` within its bound when /ready answers 503 forever, and prints the way back", async () => {
    api.setMode({ readyNever: true });
    const started = Date.now();
    const run = await verify("--ready-timeout", "2");
    const ms = Date.now() - started;
    assert.strictEqual(run.code, 1);
    assert.match(run.stdout, /^FAIL {2}ready .*did not answer 200 within 2\.0s.*HTTP 503/m);
    assert.match(run.stdout, /verify: FAILED \(ready\)/);
    assert.match(run.stdout, /runbook rollback/);
    assert.match(run.stdout, /pulumi stack history/);
    assert.match(run.stdout, /helm rollback <release> <revision>/);
    assert.ok(ms < 8_000, `took ${ms} ms for a 2 s bound`);
  });

  it("fails `ready` when nothing listens, within the bound", async () => {
    await api.close();
    const run = await verify("--ready-timeout", "1", "--json");
    api = await startAlexandriaApi();
    assert.strictEqual(run.code, 1);
    assert.match(check(run, "ready").detail, /ECONNREFUSED/);
  });

  it("fails `license` on a tier mismatch, naming both tiers", async () => {
    api.setMode({ tier: "starter" });
    const run = await verify("--json");
    assert.strictEqual(run.code, 1);
    const license = check(run, "license");
    assert.strictEqual(license.ok, false);
    assert.match(license.detail, /tier is "starter", expected "enterprise"/);
    assert.ok(json(run).wayBack?.some((l) => l.startsWith("runbook rollback")));
  });

  it("fails `license` when it expired", async () => {
    api.setMode({ license: "expired" });
    const run = await verify("--json");
    assert.strictEqual(run.code, 1);
    assert.match(check(run, "license").detail, /expired/);
  });

  it("warns but passes when the license expires within --license-warn-days", async () => {
    api.setMode({ license: "expiring-soon" });
    const run = await verify("--json");
    assert.strictEqual(run.code, 0, run.stdout);
    const license = check(run, "license");
    assert.strictEqual(license.ok, true);
    assert.match(license.warning ?? "", /expires in [45] days/);
    const text = await verify("--license-warn-days", "3");
    assert.strictEqual(text.code, 0);
    assert.match(text.stdout, /^PASS {2}license/m, "5 days left is outside a 3-day window");
    const warned = await verify();
    assert.match(warned.stdout, /^WARN {2}license/m);
  });

  it("fails `license` when seats exceed the licensed count or --max-seats", async () => {
    api.setMode({ seatsOverLimit: true });
    const over = await verify("--json");
    assert.strictEqual(over.code, 1);
    assert.match(check(over, "license").detail, /current_seats 57 is above the licensed max_seats 50/);
    api.setMode({ seatsOverLimit: false });
    const capped = await verify("--max-seats", "10", "--json");
    assert.strictEqual(capped.code, 1);
    assert.match(check(capped, "license").detail, /current_seats 12 is above --max-seats 10/);
  });

  it("auth-setup after an upgrade: an existing admin (404 or 409) passes, a setup screen (200) fails", async () => {
    api.setMode({ adminExists: true, adminExistsStatus: 409 });
    assert.strictEqual((await verify()).code, 0);
    api.setMode({ adminExists: false });
    const lost = await verify("--json");
    assert.strictEqual(lost.code, 1);
    assert.match(check(lost, "auth-setup").detail, /answered 200 after an upgrade.*admin/);
  });

  it("auth-setup on a first install: 200 passes, an existing admin fails", async () => {
    api.setMode({ adminExists: false });
    assert.strictEqual((await verify("--first-install")).code, 0);
    api.setMode({ adminExists: true });
    const run = await verify("--first-install", "--json");
    assert.strictEqual(run.code, 1);
    assert.match(check(run, "auth-setup").detail, /on a first install: an admin already exists/);
  });

  it("em-runtime mode checks the health path under the name `health`", async () => {
    const ok = await runCli(["verify", "--base-url", api.url, "--health-path", "/api/governance/health", "--json"]);
    assert.strictEqual(ok.code, 0, ok.stdout + ok.stderr);
    assert.deepStrictEqual(
      json(ok).checks.map((c) => c.name),
      ["health", "api-logs"],
    );
    api.setMode({ healthy: false });
    const bad = await runCli([
      "verify",
      "--base-url",
      api.url,
      "--health-path",
      "/api/governance/health",
      "--ready-timeout",
      "1",
      "--json",
    ]);
    assert.strictEqual(bad.code, 1);
    assert.match(check(bad, "health").detail, /\/api\/governance\/health did not answer 200/);
  });

  it("exits 2 with the flag and the fix for bad usage", async () => {
    const cases: [string[], RegExp][] = [
      [["verify", "--expect-tier", "enterprise"], /--base-url is required/],
      [["verify", "--base-url", "ftp://x", "--expect-tier", "enterprise"], /--base-url must be an http/],
      [["verify", "--base-url", "not a url", "--expect-tier", "enterprise"], /--base-url 'not a url' is not a URL/],
      [["verify", "--base-url", "http://127.0.0.1:1"], /--expect-tier is required/],
      [
        ["verify", "--base-url", "http://127.0.0.1:1", "--expect-tier", "x", "--ready-timeout", "soon"],
        /--ready-timeout must be a number of seconds/,
      ],
      [
        ["verify", "--base-url", "http://127.0.0.1:1", "--expect-tier", "x", "--max-seats=-1"],
        /--max-seats must be a whole number/,
      ],
      [
        ["verify", "--base-url", "http://127.0.0.1:1", "--expect-tier", "x", "--license-warn-days", "1.5"],
        /--license-warn-days must be a whole number/,
      ],
      [
        ["verify", "--base-url", "http://127.0.0.1:1", "--expect-tier", "x", "--namespace", "prod"],
        /--namespace and --release go together/,
      ],
      [
        ["verify", "--base-url", "http://127.0.0.1:1", "--expect-tier", "x", "--log-lines", "10"],
        /--log-lines needs --namespace/,
      ],
      [
        ["verify", "--base-url", "http://127.0.0.1:1", "--expect-tier", "x", "--namespace", "Prod", "--release", "a"],
        /--namespace 'Prod' is not a Kubernetes namespace name/,
      ],
      [
        [
          "verify",
          "--base-url",
          "http://127.0.0.1:1",
          "--expect-tier",
          "x",
          "--namespace",
          "prod",
          "--release",
          "a$(id)",
        ],
        /--release 'a\$\(id\)' is not a Helm release name/,
      ],
      [
        ["verify", "--base-url", "http://127.0.0.1:1", "--health-path", "api/health"],
        /--health-path must start with '\/'/,
      ],
      [["verify", "--base-url", "http://127.0.0.1:1", "--expect-tier", "x", "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCli(args);
      assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, pattern, args.join(" "));
    }
    const asJson = await runCli(["verify", "--json"]);
    assert.strictEqual(asJson.code, 2);
    assert.strictEqual(asJson.json?.ok, false);
  });

  it("--help documents every flag", async () => {
    const run = await runCli(["verify", "--help"]);
    assert.strictEqual(run.code, 0);
    for (const flag of [
      "--base-url",
      "--expect-tier",
      "--first-install",
      "--ready-timeout",
      "--license-warn-days",
      "--max-seats",
      "--namespace",
      "--release",
      "--log-lines",
      "--health-path",
      "--json",
    ]) {
      assert.ok(run.stdout.includes(flag), flag);
    }
  });
});

describe("verify: api-logs through the Kubernetes API (fake API server)", function () {
  this.timeout(60_000);
  let api: AlexandriaApiFixture;
  let kube: FakeKubeApi;

  beforeEach(async () => {
    api = await startAlexandriaApi();
    kube = await startProdCluster(
      {
        revisions: [
          { revision: 6, status: "superseded" },
          { revision: 7, status: "deployed" },
        ],
        pods: [{ name: "alexandria-ee-api-1" }],
      },
      ["fake", "prod-cluster"],
    );
  });
  afterEach(async () => {
    await api.close();
    await kube.close();
  });

  const verifyWithLogs = (...extra: string[]) =>
    runVerify(api.url, [...PROD_RELEASE, "--log-lines", "20", "--json", ...extra], kube.cliOptions());

  it("passes clean logs and asks the API server exactly what the runbook does", async () => {
    kube.answer(PROD.logOf("alexandria-ee-api-1"), 'level=info msg="listening on :8080"\n0 errors\n');
    const run = await verifyWithLogs("--context", "prod-cluster");
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    assert.match(check(run, "api-logs").detail, /^2 line\(s\)/);
    const logRequests = kube.requests().filter((r) => r.path === PROD.pods || r.path.endsWith("/log"));
    assert.deepStrictEqual(
      logRequests.map((r) => [r.path, r.query, r.tokenOf]),
      [
        [PROD.pods, { labelSelector: "app.kubernetes.io/instance=alexandria-ee" }, "prod-cluster"],
        [PROD.logOf("alexandria-ee-api-1"), { container: "api", tailLines: "20" }, "prod-cluster"],
      ],
    );
  });

  it("fails on startup errors, quoting them with credentials masked, and names the helm rollback revision", async () => {
    kube.answer(
      PROD.logOf("alexandria-ee-api-1"),
      "starting\n" +
        '{"level":"error","msg":"migration failed","dsn":"postgres://app:hunter2-secret@db:5432/alexandria"}\n' +
        "panic: runtime error: invalid memory address\n",
    );
    const run = await verifyWithLogs();
    assert.strictEqual(run.code, 1);
    const logs = check(run, "api-logs");
    assert.match(logs.detail, /2 of the last 3 api log line\(s\) look like startup errors/);
    assert.match(logs.detail, /panic: runtime error/);
    assert.ok(!run.stdout.includes("hunter2-secret"), run.stdout);
    assert.ok(
      json(run).wayBack?.some((l) => l.startsWith("helm rollback alexandria-ee 6 -n prod")),
      run.stdout,
    );
  });

  it("api-logs is skipped, saying why, when no pod of the release has an api container (never ok on 0 lines)", async () => {
    kube.answer(PROD.pods, podList([{ name: "alexandria-ee-orchestrator-1", containers: ["orchestrator"] }]));
    const run = await verifyWithLogs();
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    const logs = check(run, "api-logs");
    assert.strictEqual(logs.skipped, true, JSON.stringify(logs));
    assert.strictEqual(
      logs.detail,
      "no pod labelled app.kubernetes.io/instance=alexandria-ee in namespace prod has a container named api: no api logs to read",
    );
    assert.ok(!kube.requests().some((r) => r.path.endsWith("/log")), "no log was asked for");
  });

  it("api-logs is skipped when the api containers logged nothing", async () => {
    kube.answer(PROD.logOf("alexandria-ee-api-1"), "");
    const run = await verifyWithLogs();
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    const logs = check(run, "api-logs");
    assert.strictEqual(logs.skipped, true, JSON.stringify(logs));
    assert.match(logs.detail, /^1 container log\(s\) \(alexandria-ee-api-1\/api\) hold no lines yet/);
  });

  it("fails api-logs, not the command, when the API server cannot be reached", async () => {
    // The fake's kubeconfig, kept while the fake goes away: its server address now refuses connections.
    const kubeconfig = path.join(os.tmpdir(), `kubeconfig-unreachable-${process.pid}`);
    fs.copyFileSync(kube.kubeconfig, kubeconfig);
    const address = new URL(kube.url).host;
    await kube.close();
    kube = await startFakeKubeApi();
    try {
      const run = await runVerify(api.url, [...PROD_RELEASE, "--json"], { env: { KUBECONFIG: kubeconfig } });
      assert.strictEqual(run.code, 1);
      assert.match(
        check(run, "api-logs").detail,
        new RegExp(
          `could not read the api logs: listing pods .* in namespace prod: cannot reach ${address}: .*ECONNREFUSED`,
        ),
      );
    } finally {
      fs.rmSync(kubeconfig, { force: true });
    }
  });

  it("reads only the pods that have an api container when the selector also matches other components", async () => {
    kube.answer(
      PROD.pods,
      podList([
        { name: "alexandria-ee-orchestrator-1", containers: ["orchestrator"] },
        { name: "alexandria-ee-api-1" },
        { name: "alexandria-ee-migrate-1", phase: "Succeeded" },
        { name: "alexandria-ee-api-2" },
      ]),
    );
    kube.answer(PROD.logOf("alexandria-ee-api-1"), "ok\n");
    kube.answer(PROD.logOf("alexandria-ee-api-2"), "FATAL: cannot bind\n");
    const logs = await readContainerLogs("alexandria-ee", { namespace: "prod" }, kube.env(), 5);
    assert.deepStrictEqual(logs.lines, [
      "[pod/alexandria-ee-api-1/api] ok",
      "[pod/alexandria-ee-api-2/api] FATAL: cannot bind",
    ]);
    assert.deepStrictEqual(logs.sources, ["alexandria-ee-api-1/api", "alexandria-ee-api-2/api"]);
    assert.deepStrictEqual(
      kube
        .requests()
        .map((r) => r.path)
        .sort(),
      [PROD.pods, PROD.logOf("alexandria-ee-api-1"), PROD.logOf("alexandria-ee-api-2")],
    );
  });
});

describe("verify: pure checks", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const expect = { tier: "enterprise", warnDays: 30, now };
  const license = (extra: Record<string, unknown> = {}) => ({
    tier: "enterprise",
    current_seats: 10,
    max_seats: 20,
    expires_at: "2027-01-01T00:00:00Z",
    ...extra,
  });

  it("license: accepts a sane license, tier compared case-insensitively", () => {
    const result = assessLicense(license({ tier: "Enterprise" }), expect);
    assert.strictEqual(result.ok, true);
    assert.strictEqual(result.warning, undefined);
  });

  it("license: rejects bad seat counts and unparsable or missing expiry, reporting every problem", () => {
    const result = assessLicense(license({ current_seats: -1, expires_at: "someday" }), expect);
    assert.strictEqual(result.ok, false);
    assert.match(result.detail, /current_seats is -1/);
    assert.match(result.detail, /expires_at is "someday"/);
    assert.match(assessLicense(license({ current_seats: 2.5 }), expect).detail, /non-negative integer/);
    assert.match(assessLicense(license({ current_seats: "10" }), expect).detail, /non-negative integer/);
    assert.match(assessLicense(license({ expires_at: undefined }), expect).detail, /expires_at is null/);
    assert.match(assessLicense([], expect).detail, /tier is null/);
  });

  it("license: a license without a seat limit is checked against --max-seats only", () => {
    assert.strictEqual(assessLicense(license({ max_seats: undefined }), expect).ok, true);
    assert.strictEqual(assessLicense(license({ max_seats: undefined }), { ...expect, maxSeats: 5 }).ok, false);
  });

  it("startup errors: matches the documented patterns, not ordinary words", () => {
    const found = findStartupErrors([
      "panic: boom",
      "log.Fatal: fatal error",
      "FATAL:  password authentication failed",
      'time=1 level=error msg="x"',
      '{"level":"error","msg":"x"}',
      '{"level" : "error"}',
      "Migration failed at 0042",
      "ERROR could not start",
      "0 errors, 0 warnings",
      "level=info msg=errorless",
      "nonfatal warning",
    ]);
    assert.deepStrictEqual(
      found.map((f) => f.pattern),
      ["panic", "fatal", "FATAL", "level=error", '"level":"error"', '"level":"error"', "migration failed", "ERROR"],
    );
  });

  it("masks passwords in URLs before a log line is printed", () => {
    assert.strictEqual(maskUrlPasswords("dsn=postgres://app:s3cret@db/x ok"), "dsn=postgres://app:***@db/x ok");
    assert.strictEqual(maskUrlPasswords("see https://example.com/a:b"), "see https://example.com/a:b");
  });
});
