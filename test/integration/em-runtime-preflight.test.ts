/**
 * em-runtime's own preflight checks, as its upgrade guide runs them before `helm upgrade`: every pod of the
 * namespace, the infrastructure pods, the health path over the base URL, and the address in
 * em-runtime-secrets. The CLI against a fake Kubernetes API, the application fixture (a real HTTP server),
 * the test registry and PostgreSQL.
 */
import assert from "node:assert/strict";
import { AlexandriaApiFixture, startAlexandriaApi } from "../fixtures/alexandria-api/server";
import { componentLabels, EM_COMPONENT, EmPod } from "../fixtures/alexandria-api/em-runtime-objects";
import { FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { buildCli, CliRun, dsnFor, requirePostgres, runCli } from "../support/postgres";
import { OPEN_REGISTRY, pushTag, requireTestRegistries } from "../support/registry";
import { EM, EM_RELEASE, EM_RELEASE_NAME, EmNamespace, startEmCluster } from "../support/emCluster";
import { normaliseBaseUrl } from "../../src/lib/http/base-url";

const PG_DSN = dsnFor("postgres");
const IMAGE = `${OPEN_REGISTRY}/runbook-test/governance:4.8.6`;
/** A value of em-runtime-secrets other than base-url: it must never reach the output. */
const OTHER_SECRET_VALUE = "kc-client-s3cret-7f3a9b";

interface Check {
  name: string;
  ok: boolean;
  skipped?: boolean;
  detail: string;
}

function checkOf(run: CliRun, name: string): Check {
  const checks = (run.json?.checks ?? []) as Check[];
  const found = checks.find((c) => c.name === name);
  assert.ok(found, `no check ${name}: ${run.stdout}${run.stderr}`);
  return found;
}

const releasePods: EmPod[] = ["governance", "assets", "utils"].map((c) => ({
  name: `em-runtime-${c}-7d9f-abcde`,
  labels: componentLabels(EM_RELEASE_NAME, c),
}));
const postgres: EmPod = {
  name: "postgresql-0",
  labels: { [EM_COMPONENT]: "database", "app.kubernetes.io/name": "postgresql" },
};
const redis: EmPod = {
  name: "redis-master-0",
  labels: { [EM_COMPONENT]: "database", "app.kubernetes.io/name": "redis" },
};
const keycloak: EmPod = { name: "keycloak-0", labels: { app: "keycloak" } };

describe("em-runtime preflight: the namespace, its infrastructure, the health path and base-url", function () {
  this.timeout(60_000);
  let api: AlexandriaApiFixture;
  let kube: FakeKubeApi | undefined;

  before(async function () {
    this.timeout(120_000);
    await requireTestRegistries();
    await requirePostgres();
    await pushTag({ registry: OPEN_REGISTRY, repository: "runbook-test/governance", tag: "4.8.6" });
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

  const namespace = (patch: Partial<EmNamespace> = {}): EmNamespace => ({
    revisions: [
      { revision: 3, status: "superseded" },
      { revision: 4, status: "deployed" },
    ],
    pods: [...releasePods, postgres, redis, keycloak],
    secrets: { "em-runtime-secrets": { "base-url": `${api.url}/`, "keycloak-client-secret": OTHER_SECRET_VALUE } },
    ...patch,
  });

  const preflight = async (ns: EmNamespace, ...extra: string[]): Promise<CliRun> => {
    kube = await startEmCluster(ns);
    return runCli(
      [
        "preflight",
        ...EM_RELEASE,
        "--image",
        `governance=${IMAGE}`,
        "--all-pods",
        "--infrastructure-selector",
        "app.kubernetes.io/component=database",
        "--base-url",
        api.url,
        "--health-path",
        "/api/governance/health",
        "--base-url-secret",
        "em-runtime-secrets/base-url",
        "--request-timeout",
        "2",
        "--json",
        ...extra,
      ],
      kube.cliOptions({ PG_DSN }),
    );
  };

  it("passes a healthy namespace, asking for every pod and for the database pods, and GETs the health path", async () => {
    const run = await preflight(namespace());
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(checkOf(run, "namespace-pods").detail, /every pod of namespace em \(6\) Running and Ready/);
    assert.match(checkOf(run, "infrastructure-pods").detail, /2 pod\(s\) labelled .*postgresql-0, redis-master-0/);
    assert.match(
      checkOf(run, "health-before").detail,
      /GET \/api\/governance\/health at http:\/\/127\.0\.0\.1:\d+ answered 200 before the upgrade/,
    );
    assert.equal(checkOf(run, "base-url").ok, true);
    assert.equal(api.requestCounts()["/api/governance/health"], 1);
    const podLists = kube!
      .requests()
      .filter((r) => r.path === EM.pods)
      .map((r) => r.query.labelSelector ?? "(every pod)")
      .sort();
    assert.deepEqual(podLists, [
      "(every pod)",
      "app.kubernetes.io/component=database",
      "app.kubernetes.io/instance=em-runtime",
    ]);
    assert.ok(!run.stdout.includes(OTHER_SECRET_VALUE) && !run.stderr.includes(OTHER_SECRET_VALUE));
  });

  it("namespace-pods fails on a crash-looping pod outside the release, which pods-healthy does not see", async () => {
    const infisical: EmPod = {
      name: "infisical-5c8d-xyz",
      labels: { "app.kubernetes.io/instance": "infisical" },
      containers: [{ name: "infisical", state: "crash-loop", restarts: 9 }],
    };
    const run = await preflight(namespace({ pods: [...releasePods, postgres, infisical] }));
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(checkOf(run, "pods-healthy").ok, true, "the release's own pods are healthy");
    const all = checkOf(run, "namespace-pods");
    assert.equal(all.ok, false);
    assert.match(
      all.detail,
      /1 of 5 pod\(s\) unhealthy \(infisical-5c8d-xyz CrashLoopBackOff \(infisical, 9 restarts\)\) in namespace em/,
    );
    assert.match(all.detail, /fix them before upgrading/);
    assert.match(all.detail, /`runbook diagnose --namespace em --release em-runtime`/);
  });

  it("infrastructure-pods fails on a database pod that is not Ready, and is skipped (saying why) when there is none", async () => {
    const down: EmPod = { ...redis, containers: [{ name: "redis", state: { waiting: "ImagePullBackOff" } }] };
    const failed = await preflight(namespace({ pods: [...releasePods, postgres, down] }));
    assert.equal(failed.code, 1);
    const infra = checkOf(failed, "infrastructure-pods");
    assert.equal(infra.ok, false);
    assert.match(infra.detail, /redis-master-0 not Ready \(redis\)/);
    assert.match(infra.detail, /init containers wait for these/);
    await kube!.close();

    const none = await preflight(namespace({ pods: releasePods }));
    assert.equal(none.code, 0, none.stdout + none.stderr);
    const skipped = checkOf(none, "infrastructure-pods");
    assert.equal(skipped.skipped, true);
    assert.match(
      skipped.detail,
      /no pods labelled app\.kubernetes\.io\/component=database in namespace em: the databases run elsewhere/,
    );
  });

  it("health-before fails when the health path does not answer 200 before the upgrade; skipped on a first install", async () => {
    api.setMode({ healthy: false });
    const run = await preflight(namespace());
    assert.equal(run.code, 1);
    const health = checkOf(run, "health-before");
    assert.equal(health.ok, false);
    assert.match(health.detail, /answered 503 before the upgrade: the release is not healthy now/);
    assert.match(health.detail, /runbook diagnose --namespace em --release em-runtime/);
    assert.equal(api.requestCounts()["/api/governance/health"], 3, "retried: a 503 can be a blip");
    await kube!.close();

    const first = await preflight(namespace({ revisions: [], pods: [postgres], secrets: {} }));
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(checkOf(first, "health-before").skipped, true);
    assert.match(checkOf(first, "base-url").detail, /first install: Secret em-runtime-secrets .* does not exist yet/);
  });

  it("base-url: the same address spelled differently passes; another host fails naming both, never another value", async () => {
    const port = new URL(api.url).port;
    const spelled = await preflight(
      namespace({
        secrets: { "em-runtime-secrets": { "base-url": `HTTP://127.0.0.1:${port}//`, other: OTHER_SECRET_VALUE } },
      }),
    );
    assert.equal(spelled.code, 0, spelled.stdout + spelled.stderr);
    await kube!.close();

    const wrong = await preflight(
      namespace({
        secrets: { "em-runtime-secrets": { "base-url": "https://old.example.com/", other: OTHER_SECRET_VALUE } },
      }),
    );
    assert.equal(wrong.code, 1);
    const check = checkOf(wrong, "base-url");
    assert.equal(check.ok, false);
    assert.equal(
      check.detail,
      `base-url in Secret em-runtime-secrets in namespace em is https://old.example.com, baseUrl is ${api.url}: the ` +
        "hostname and scheme must match the Gateway and DNS; correct whichever is wrong (the Secret's base-url, or " +
        "`pulumi config set baseUrl`)",
    );
    for (const out of [wrong.stdout, wrong.stderr]) assert.ok(!out.includes(OTHER_SECRET_VALUE), out);
  });

  it("base-url fails when the Secret has no such key, or is missing on an upgrade", async () => {
    const noKey = await preflight(namespace({ secrets: { "em-runtime-secrets": { other: OTHER_SECRET_VALUE } } }));
    assert.equal(noKey.code, 1);
    assert.match(checkOf(noKey, "base-url").detail, /has no key base-url \(keys: other\): add it/);
    assert.ok(!noKey.stdout.includes(OTHER_SECRET_VALUE));
    await kube!.close();

    const missing = await preflight(namespace({ secrets: {} }));
    assert.equal(missing.code, 1);
    assert.match(checkOf(missing, "base-url").detail, /Secret em-runtime-secrets in namespace em not found/);
  });

  it("without the em-runtime flags none of these checks run (Alexandria EE's preflight is unchanged)", async () => {
    kube = await startEmCluster(namespace());
    const run = await runCli(
      ["preflight", ...EM_RELEASE, "--image", `governance=${IMAGE}`, "--json"],
      kube.cliOptions({ PG_DSN }),
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const names = ((run.json?.checks ?? []) as Check[]).map((c) => c.name);
    for (const name of ["namespace-pods", "infrastructure-pods", "health-before", "base-url"]) {
      assert.ok(!names.includes(name), `${name} in ${names.join(", ")}`);
    }
  });

  it("exits 2 naming the flag for bad usage", async () => {
    const base = ["preflight", "--skip-cluster", "--image", `governance=${IMAGE}`];
    const cases: [string[], RegExp][] = [
      [["--health-path", "/h"], /--health-path needs --base-url/],
      [["--base-url", "http://x"], /--base-url is used by --health-path and --base-url-secret/],
      [
        ["--base-url", "http://x", "--base-url-secret", "em-runtime-secrets"],
        /--base-url-secret 'em-runtime-secrets' is not NAME\/KEY/,
      ],
      [
        ["--infrastructure-selector", "component database"],
        /--infrastructure-selector 'component database' is not a label selector/,
      ],
      [["--base-url", "http://x", "--health-path", "h"], /--health-path must start with '\/'/],
      [["--base-url", "http://u:p@x", "--health-path", "/h"], /--base-url must not carry credentials/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCli([...base, ...args], { env: { PG_DSN } });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, pattern, args.join(" "));
    }
  });
});

describe("normaliseBaseUrl", () => {
  it("compares scheme, host, port and path, ignoring case, the default port, user info, query and trailing slashes", () => {
    assert.equal(normaliseBaseUrl("HTTPS://Em.Example.com:443/"), "https://em.example.com");
    assert.equal(normaliseBaseUrl(" https://em.example.com/app//?x=1#y "), "https://em.example.com/app");
    assert.equal(normaliseBaseUrl("http://em.example.com:8080"), "http://em.example.com:8080");
    assert.notEqual(normaliseBaseUrl("http://em.example.com"), normaliseBaseUrl("https://em.example.com"));
    assert.equal(normaliseBaseUrl("em.example.com"), undefined);
    assert.equal(normaliseBaseUrl("ftp://em.example.com"), undefined);
  });
});
