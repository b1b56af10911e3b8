import * as assert from "assert";
import path from "node:path";
import {
  alexandriaDeployments,
  helmReleaseSecrets,
  podList,
  secretWith,
} from "../fixtures/alexandria-api/cluster-objects";
import { FakeKubeApi, startFakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { writeKubeconfig } from "../fixtures/alexandria-api/kubeconfig";
import { buildCli, CliRun, dsnFor, requirePostgres, runCli } from "../support/postgres";
import { PROD, prodPreflightArgs, startProdCluster } from "../support/prodCluster";
import { OPEN_REGISTRY, pushTag, requireTestRegistries } from "../support/registry";
import {
  assessPods,
  checkPodsHealthy,
  KubeApiError,
  readHelmHistory,
  readSecretKey,
  runningContainerImage,
  SecretKeyMissing,
} from "../../src/lib/kube";
import { evaluateUpgradeGate } from "../../src/lib/preflight/upgrade-gate";

const PG_DSN = dsnFor("postgres");
/** The test server speaks no TLS; protected runs that are about other checks say so, as a stack would in config. */
const NO_TLS_HERE = ["--allow-unverified-database-tls", "the test server on loopback has no TLS"];
const REPO = `${OPEN_REGISTRY}/runbook-test`;

interface PreflightJson {
  ok: boolean;
  checks: { name: string; ok: boolean; skipped?: boolean; detail: string }[];
  releaseRevision: number | null;
  releaseStatus: string | null;
  firstInstall: boolean | null;
  currentApiTag: string | null;
  serverVersion: string | null;
  schemaVersion: string | null;
  images: { component: string; image: string; status: string; digest?: string }[];
}

function parse(run: CliRun): PreflightJson {
  const lines = run.stdout.trim().split("\n");
  assert.strictEqual(lines.length, 1, `--json must print one line, got:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(lines[0]!) as PreflightJson;
}

function checkOf(out: PreflightJson, name: string) {
  const found = out.checks.find((c) => c.name === name);
  assert.ok(found, `no check ${name}: ${JSON.stringify(out.checks)}`);
  return found;
}

describe("preflight (CLI, --skip-cluster) against the test registry and PostgreSQL", function () {
  this.timeout(60_000);

  before(async function () {
    this.timeout(120_000);
    await requireTestRegistries();
    await requirePostgres();
    for (const component of ["api", "orchestrator", "dashboard"]) {
      await pushTag({ registry: OPEN_REGISTRY, repository: `runbook-test/${component}`, tag: "v1.3.0" });
    }
    await buildCli();
  });

  const images = [
    "--images",
    `api=${REPO}/api:v1.3.0,orchestrator=${REPO}/orchestrator:v1.3.0`,
    "--image",
    `dashboard=${REPO}/dashboard:v1.3.0`,
  ];

  it("passes when every tag exists and the database answers; cluster checks are reported as skipped", async () => {
    const run = await runCli(
      ["preflight", "--skip-cluster", ...images, "--schema-version-query", "select 42 as version", "--json"],
      { env: { PG_DSN } },
    );
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    const out = parse(run);
    assert.strictEqual(out.ok, true);
    assert.deepStrictEqual(
      out.checks.map((c) => c.name),
      // --image entries first, then the --images list.
      [
        "image:dashboard",
        "image:api",
        "image:orchestrator",
        "release-revision",
        "pods-healthy",
        "dsn-secret",
        "database",
        "minor-version-gate",
      ],
    );
    for (const name of ["release-revision", "pods-healthy"]) {
      const c = checkOf(out, name);
      assert.strictEqual(c.skipped, true, name);
      assert.match(c.detail, /--skip-cluster/, name);
    }
    assert.strictEqual(checkOf(out, "database").skipped, undefined);
    assert.match(out.serverVersion ?? "", /^\d+/);
    assert.strictEqual(out.schemaVersion, "42");
    assert.strictEqual(out.releaseRevision, null);
    assert.strictEqual(out.firstInstall, null);
    assert.strictEqual(out.currentApiTag, null);
    assert.deepStrictEqual(
      out.images.map((i) => [i.component, i.status]),
      [
        ["dashboard", "exists"],
        ["api", "exists"],
        ["orchestrator", "exists"],
      ],
    );
    assert.match(out.images[1]!.digest ?? "", /^sha256:[0-9a-f]{64}$/);
  });

  it("prints PASS/FAIL/SKIP lines without --json", async () => {
    const run = await runCli(["preflight", "--skip-cluster", ...images], { env: { PG_DSN } });
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^PASS {2}image:api/m);
    assert.match(run.stdout, /^SKIP {2}pods-healthy/m);
    assert.match(run.stdout, /preflight: every check passed/);
  });

  it("fails (exit 1) on a missing tag but still runs and reports every other check", async () => {
    const run = await runCli(
      [
        "preflight",
        "--skip-cluster",
        "--image",
        `api=${REPO}/api:v9.9.9`,
        "--image",
        `orchestrator=${REPO}/orchestrator:v1.3.0`,
        "--json",
      ],
      { env: { PG_DSN } },
    );
    assert.strictEqual(run.code, 1);
    const out = parse(run);
    assert.strictEqual(out.ok, false);
    assert.strictEqual(checkOf(out, "image:api").ok, false);
    assert.match(checkOf(out, "image:api").detail, /runbook-test\/api:v9\.9\.9 not found/);
    assert.strictEqual(checkOf(out, "image:orchestrator").ok, true);
    assert.strictEqual(checkOf(out, "database").ok, true);
  });

  it("fails the database check when the schema version query is wrong, naming the flag", async () => {
    const run = await runCli(
      [
        "preflight",
        "--skip-cluster",
        ...images,
        "--schema-version-query",
        "select version from no_such_table",
        "--json",
      ],
      { env: { PG_DSN } },
    );
    assert.strictEqual(run.code, 1);
    assert.match(checkOf(parse(run), "database").detail, /--schema-version-query/);
  });

  it("in a protected stack, a destructive release needs --acknowledge with the exact target tag", async () => {
    const base = ["preflight", "--skip-cluster", ...images, "--protected", "--destructive", ...NO_TLS_HERE, "--json"];
    const refused = parse(await runCli(base, { env: { PG_DSN } }));
    const gate = checkOf(refused, "minor-version-gate");
    assert.strictEqual(gate.ok, false);
    assert.match(gate.detail, /release-runbook:acknowledgeUpgrade/);
    assert.match(gate.detail, /"v1\.3\.0"/);
    const wrong = parse(await runCli([...base, "--acknowledge", "v1.2.9"], { env: { PG_DSN } }));
    assert.match(checkOf(wrong, "minor-version-gate").detail, /it is now "v1\.2\.9"/);
    const run = await runCli([...base, "--acknowledge", "v1.3.0"], { env: { PG_DSN } });
    assert.strictEqual(run.code, 0, run.stdout);
  });

  it("exits 2 naming the flag and the fix for bad input", async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [["preflight", "--skip-cluster"], { PG_DSN }, /no target images: give --image api=/],
      [
        ["preflight", "--skip-cluster", "--image", `${REPO}/api:v1.3.0`],
        { PG_DSN },
        /--image '.*' is not COMPONENT=IMAGE/,
      ],
      [["preflight", "--skip-cluster", "--image", `api=${REPO}/api`], { PG_DSN }, /--image api: '.*' names no tag/],
      [
        ["preflight", "--skip-cluster", "--image", `api=${REPO}/api:latest`],
        { PG_DSN },
        /--image api: the tag is `latest`/,
      ],
      [
        ["preflight", "--skip-cluster", "--protected", "--image", `api=${REPO}/api:main`],
        { PG_DSN },
        /--image api: the tag 'main' is not a semver tag/,
      ],
      [
        ["preflight", "--skip-cluster", "--images", `api=${REPO}/api:v1,api=${REPO}/api:v2`],
        { PG_DSN },
        /component 'api' is given twice/,
      ],
      [["preflight", "--image", `api=${REPO}/api:v1.3.0`], { PG_DSN }, /--namespace is required .* or --skip-cluster/],
      [["preflight", "--namespace", "prod", "--image", `api=${REPO}/api:v1.3.0`], { PG_DSN }, /--release is required/],
      [
        ["preflight", "--namespace", "Prod_1", "--release", "a", "--image", `api=${REPO}/api:v1.3.0`],
        { PG_DSN },
        /--namespace 'Prod_1' is not a Kubernetes namespace/,
      ],
      [
        ["preflight", "--skip-cluster", "--image", `api=${REPO}/api:v1.3.0`],
        {},
        /no database to check: give --dsn-secret NAME\/KEY .* or export PG_DSN/,
      ],
      [
        ["preflight", "--skip-cluster", "--dsn-secret", "db/dsn", "--image", `api=${REPO}/api:v1.3.0`],
        {},
        /--skip-cluster cannot read --dsn-secret db\/dsn: export PG_DSN/,
      ],
      [
        ["preflight", "--skip-cluster", "--dsn-secret", "db", "--image", `api=${REPO}/api:v1.3.0`],
        { PG_DSN },
        /--dsn-secret 'db' is not NAME\/KEY/,
      ],
      [
        ["preflight", "--skip-cluster", "--schema-version-query", "", "--image", `api=${REPO}/api:v1.3.0`],
        { PG_DSN },
        /--schema-version-query must not be empty/,
      ],
      [
        ["preflight", "--skip-cluster", "--image", `api=${REPO}/api:v1.3.0`],
        { PG_DSN: "mysql://x" },
        /PG_DSN is not a postgres:\/\/ URL/,
      ],
    ];
    for (const [args, env, pattern] of cases) {
      const run = await runCli(args, { env });
      assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, pattern, args.join(" "));
    }
  });

  it("--help documents every flag", async () => {
    const run = await runCli(["preflight", "--help"]);
    assert.strictEqual(run.code, 0);
    for (const flag of [
      "--namespace",
      "--release",
      "--context",
      "--image",
      "--images",
      "--registry-insecure",
      "--dsn-secret",
      "--schema-version-query",
      "--protected",
      "--acknowledge",
      "--destructive",
      "--skip-cluster",
      "--json",
    ]) {
      assert.ok(run.stdout.includes(flag), flag);
    }
  });
});

describe("preflight with cluster checks (fake Kubernetes API server)", function () {
  this.timeout(60_000);
  let kube: FakeKubeApi;

  before(async () => {
    await requireTestRegistries();
    await requirePostgres();
    await pushTag({ registry: OPEN_REGISTRY, repository: "runbook-test/api", tag: "v1.3.0" });
    await pushTag({ registry: OPEN_REGISTRY, repository: "runbook-test/api", tag: "v1.2.4" });
  });

  beforeEach(async () => {
    kube = await startProdCluster(
      {
        revisions: [
          { revision: 2, status: "superseded" },
          { revision: 10, status: "deployed" },
          { revision: 9, status: "superseded" },
        ],
        pods: [{ name: "alexandria-ee-api-1" }, { name: "alexandria-ee-orchestrator-1", containers: ["orchestrator"] }],
        runningApi: "us-docker.pkg.dev/proj/repo/api:v1.2.3",
        dsn: PG_DSN,
      },
      ["fake", "gke_proj_us-central1_prod"],
    );
  });
  afterEach(() => kube.close());

  const preflight = (target: string, ...extra: string[]) =>
    runCli(
      prodPreflightArgs(
        `${REPO}/api:${target}`,
        "--dsn-secret",
        "alexandria-db/dsn",
        ...NO_TLS_HERE,
        "--json",
        ...extra,
      ),
      kube.cliOptions(),
    );

  it("records the release revision, checks pods, reads the DSN secret and the running api tag", async () => {
    const run = await preflight("v1.2.4", "--schema-version-query", "select 7");
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    const out = parse(run);
    assert.strictEqual(out.releaseRevision, 10);
    assert.strictEqual(out.releaseStatus, "deployed");
    assert.strictEqual(out.firstInstall, false);
    assert.strictEqual(out.currentApiTag, "v1.2.3");
    assert.strictEqual(out.schemaVersion, "7");
    assert.match(checkOf(out, "pods-healthy").detail, /2 pod\(s\) Running and Ready/);
    assert.match(checkOf(out, "dsn-secret").detail, /secret alexandria-db in namespace prod has key dsn/);
    assert.match(checkOf(out, "database").detail, /DSN from secret alexandria-db key dsn/);
    assert.ok(!run.stdout.includes("runbook-test-pw"), "the DSN's password was printed");
    const requests = kube.requests();
    assert.ok(
      requests.every((r) => r.method === "GET" && r.path.includes("/namespaces/prod/") && r.tokenOf === "fake"),
    );
    const history = requests.filter((r) => r.path === PROD.secrets);
    assert.deepStrictEqual(
      history.map((r) => r.query),
      [{ labelSelector: "owner=helm,name=alexandria-ee", fieldSelector: "type=helm.sh/release.v1" }],
    );
    assert.deepStrictEqual(
      requests.filter((r) => r.path === PROD.pods).map((r) => r.query),
      [{ labelSelector: "app.kubernetes.io/instance=alexandria-ee" }],
    );
    assert.deepStrictEqual(
      requests.filter((r) => r.path === PROD.deployments).map((r) => r.query),
      [{ labelSelector: "app.kubernetes.io/instance=alexandria-ee" }],
    );
  });

  it("connects with PG_DSN when it is given, still checking that the secret exists", async () => {
    kube.answer(
      PROD.dsnSecret,
      secretWith("alexandria-db", { dsn: "postgres://app:in-cluster-pw@alexandria-db.prod.svc:5432/alexandria" }),
    );
    const run = await runCli(
      prodPreflightArgs(`${REPO}/api:v1.2.4`, "--dsn-secret", "alexandria-db/dsn", "--json"),
      kube.cliOptions({ PG_DSN }),
    );
    assert.strictEqual(run.code, 0, run.stdout);
    assert.match(checkOf(parse(run), "database").detail, /DSN from PG_DSN/);
    assert.ok(!run.stdout.includes("in-cluster-pw"));
  });

  it("minor-version gate: crossing v1.2.3 → v1.3.0 in a protected stack needs the acknowledgement of v1.3.0", async () => {
    const refused = await preflight("v1.3.0", "--protected");
    assert.strictEqual(refused.code, 1);
    const gate = checkOf(parse(refused), "minor-version-gate");
    assert.strictEqual(gate.ok, false);
    assert.match(gate.detail, /api v1\.2\.3 → v1\.3\.0 crosses a minor version/);
    assert.match(gate.detail, /set release-runbook:acknowledgeUpgrade to "v1\.3\.0"/);

    const acknowledged = await preflight("v1.3.0", "--protected", "--acknowledge", "v1.3.0");
    assert.strictEqual(acknowledged.code, 0, acknowledged.stdout);
    assert.match(checkOf(parse(acknowledged), "minor-version-gate").detail, /acknowledged for v1\.3\.0/);

    assert.strictEqual((await preflight("v1.3.0")).code, 0, "not protected: no gate");
    assert.strictEqual((await preflight("v1.2.4", "--protected")).code, 0, "a patch upgrade needs no acknowledgement");
  });

  it("first install: no release Secrets → firstInstall, pods-healthy skipped (not passed), no gate", async () => {
    kube.answer(PROD.secrets, { apiVersion: "v1", kind: "SecretList", items: [] });
    const run = await preflight("v1.3.0", "--protected");
    assert.strictEqual(run.code, 0, run.stdout);
    const out = parse(run);
    assert.strictEqual(out.firstInstall, true);
    assert.strictEqual(out.releaseRevision, null);
    const pods = checkOf(out, "pods-healthy");
    assert.strictEqual(pods.skipped, true);
    assert.match(pods.detail, /first install/);
    assert.ok(!kube.requests().some((r) => r.path === PROD.pods), "pods were listed on a first install");
  });

  it("names the unhealthy pods: crash-looping, not ready, pending", async () => {
    kube.answer(
      PROD.pods,
      podList([
        { name: "alexandria-ee-api-1", phase: "Running", ready: false, waiting: "CrashLoopBackOff" },
        { name: "alexandria-ee-api-2", ready: false },
        { name: "alexandria-ee-dashboard-1", phase: "Pending", ready: false, waiting: "ImagePullBackOff" },
        { name: "alexandria-ee-api-3" },
        { name: "alexandria-ee-migrate-1", phase: "Succeeded", ready: false },
      ]),
    );
    const run = await preflight("v1.2.4");
    assert.strictEqual(run.code, 1);
    const detail = checkOf(parse(run), "pods-healthy").detail;
    assert.match(detail, /3 of 4 pod\(s\) unhealthy/);
    assert.match(detail, /alexandria-ee-api-1 CrashLoopBackOff \(api, 7 restarts\)/);
    assert.match(detail, /alexandria-ee-api-2 not Ready \(api\)/);
    assert.match(detail, /alexandria-ee-dashboard-1 phase Pending \(ImagePullBackOff\)/);
    assert.ok(!detail.includes("migrate"), "a finished Job's pod counts as unhealthy");
  });

  it("fails release-revision when Helm left a pending operation, naming the way out", async () => {
    kube.answer(
      PROD.secrets,
      helmReleaseSecrets("alexandria-ee", [
        { revision: 3, status: "deployed" },
        { revision: 4, status: "pending-upgrade" },
      ]),
    );
    const out = parse(await preflight("v1.2.4"));
    assert.strictEqual(out.ok, false);
    assert.strictEqual(out.releaseRevision, 4);
    assert.match(checkOf(out, "release-revision").detail, /pending-upgrade.*helm rollback alexandria-ee 3 -n prod/);
  });

  it("fails dsn-secret and database when the secret or key is missing, without a value in sight", async () => {
    kube.answer(PROD.dsnSecret, secretWith("alexandria-db", { url: PG_DSN }));
    const out = parse(await preflight("v1.2.4"));
    assert.match(
      checkOf(out, "dsn-secret").detail,
      /secret alexandria-db in namespace prod has no key 'dsn' \(keys: url\)/,
    );
    assert.match(checkOf(out, "database").detail, /not checked: no DSN/);
    assert.ok(!JSON.stringify(out).includes("runbook-test-pw"));

    kube.answer(
      PROD.dsnSecret,
      {
        kind: "Status",
        status: "Failure",
        reason: "NotFound",
        message: 'secrets "alexandria-db" not found',
        code: 404,
      },
      404,
    );
    const gone = parse(await preflight("v1.2.4"));
    assert.match(checkOf(gone, "dsn-secret").detail, /secret alexandria-db not found in namespace prod/);
  });

  it("reads PG_DSN from RUNBOOK_DSN_SECRET in the RUNBOOK_KUBE_CONTEXT cluster when PG_DSN is unset", async () => {
    const run = await runCli(
      ["preflight", "--skip-cluster", "--image", `api=${REPO}/api:v1.2.4`, "--json"],
      kube.cliOptions({
        RUNBOOK_DSN_SECRET: "prod/alexandria-db/dsn",
        RUNBOOK_KUBE_CONTEXT: "gke_proj_us-central1_prod",
      }),
    );
    assert.strictEqual(run.code, 0, run.stdout + run.stderr);
    assert.strictEqual(checkOf(parse(run), "database").ok, true);
    assert.deepStrictEqual(
      kube.requests().map((r) => [r.path, r.tokenOf]),
      [[PROD.dsnSecret, "gke_proj_us-central1_prod"]],
    );
    assert.ok(!run.stdout.includes("runbook-test-pw") && !run.stderr.includes("runbook-test-pw"));
  });

  it("reads every object through the --context given, with that context's credentials", async () => {
    const run = await runCli(
      prodPreflightArgs(
        `${REPO}/api:v1.2.4`,
        "--context",
        "gke_proj_us-central1_prod",
        "--dsn-secret",
        "alexandria-db/dsn",
        "--json",
      ),
      kube.cliOptions(),
    );
    assert.strictEqual(run.code, 0, run.stdout);
    assert.ok(kube.requests().length >= 4);
    assert.ok(kube.requests().every((r) => r.tokenOf === "gke_proj_us-central1_prod"));
  });
});

describe("kube functions", function () {
  this.timeout(60_000);

  it("read Helm history, pods, a secret key and the running api tag through the API server", async () => {
    const kube = await startFakeKubeApi({
      "/api/v1/namespaces/ns/secrets": helmReleaseSecrets("rel", [
        { revision: 1, status: "superseded" },
        { revision: 2, status: "deployed" },
      ]),
      "/api/v1/namespaces/ns/pods": podList([{ name: "rel-api-1" }]),
      "/api/v1/namespaces/ns/secrets/db": secretWith("db", { dsn: "postgres://u:p@h/d" }),
      "/apis/apps/v1/namespaces/ns/deployments": alexandriaDeployments(
        "rel",
        `ghcr.io/org/api@sha256:${"a".repeat(64)}`,
      ),
    });
    try {
      const env = kube.env();
      const target = { namespace: "ns" };
      assert.deepStrictEqual(await readHelmHistory("rel", target, env), [
        { revision: 1, status: "superseded" },
        { revision: 2, status: "deployed" },
      ]);
      assert.strictEqual((await checkPodsHealthy("rel", target, env)).healthy, true);
      assert.strictEqual(await readSecretKey("db", "dsn", target, env), "postgres://u:p@h/d");
      await assert.rejects(readSecretKey("db", "password", target, env), SecretKeyMissing);
      await assert.rejects(readSecretKey("gone", "dsn", target, env), /secret gone not found in namespace ns/);
      assert.deepStrictEqual(await runningContainerImage("rel", target, env), {
        deployment: "rel-api",
        image: `ghcr.io/org/api@sha256:${"a".repeat(64)}`,
        tag: `sha256:${"a".repeat(64)}`,
        replicas: 1, // no spec.replicas: Kubernetes' default
      });
    } finally {
      await kube.close();
    }
  });

  it("read Helm's release records as metadata only, never downloading a release body", async () => {
    const kube = await startFakeKubeApi({
      "/api/v1/namespaces/ns/secrets": helmReleaseSecrets("rel", [{ revision: 1, status: "deployed" }]),
    });
    try {
      assert.strictEqual((await readHelmHistory("rel", { namespace: "ns" }, kube.env())).length, 1);
      const [request] = kube.requests();
      assert.strictEqual(request.headers.accept, "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
      assert.strictEqual(request.answeredKind, "PartialObjectMetadataList", "the fake sent the full SecretList");
    } finally {
      await kube.close();
    }
  });

  it("select the kubeconfig context given, on its own server, and name the contexts when it is unknown", async () => {
    const pods = (name: string) => ({ "/api/v1/namespaces/ns/pods": podList([{ name }]) });
    const staging = await startFakeKubeApi(pods("staging-api-1"));
    const prod = await startFakeKubeApi(pods("prod-api-1"));
    try {
      const kubeconfig = path.join(path.dirname(staging.kubeconfig), "two-contexts");
      staging.acceptToken("staging-token", "staging");
      prod.acceptToken("prod-token", "prod");
      writeKubeconfig(kubeconfig, [
        { name: "staging", server: staging.url, user: { token: "staging-token" } },
        { name: "prod", server: prod.url, user: { token: "prod-token" } },
      ]);
      const env = { ...process.env, KUBECONFIG: kubeconfig };
      const podsOf = async (context?: string) =>
        (await checkPodsHealthy("rel", { namespace: "ns", ...(context === undefined ? {} : { context }) }, env))
          .podNames;
      assert.deepStrictEqual(await podsOf(), ["staging-api-1"], "the current context");
      assert.deepStrictEqual(await podsOf("prod"), ["prod-api-1"]);
      assert.deepStrictEqual(await podsOf("staging"), ["staging-api-1"]);
      assert.deepStrictEqual(
        prod.requests().map((r) => r.tokenOf),
        ["prod"],
      );
      await assert.rejects(
        podsOf("dev"),
        (err: Error) =>
          err instanceof KubeApiError &&
          /in namespace ns: kube context 'dev' is not in the kubeconfig \(contexts: staging, prod\)/.test(err.message),
      );
    } finally {
      await staging.close();
      await prod.close();
    }
  });

  it("an empty pod list is not healthy", () => {
    assert.strictEqual(assessPods([]).healthy, false);
  });

  it("say which request stopped, and why, when KUBECONFIG names no file", async () => {
    await assert.rejects(
      readHelmHistory("rel", { namespace: "ns" }, { KUBECONFIG: "/nonexistent/kubeconfig" }),
      /listing the Helm release records of rel in namespace ns: cannot load the kubeconfig: ENOENT/,
    );
  });

  it("with KUBECONFIG pointing at nothing, preflight fails the cluster checks (exit 1), not the process", async function () {
    this.timeout(120_000);
    await requireTestRegistries();
    await requirePostgres();
    await buildCli();
    const run = await runCli(prodPreflightArgs(`${REPO}/api:v1.3.0`, "--json"), {
      env: { PG_DSN, KUBECONFIG: "/nonexistent/kubeconfig" },
    });
    assert.strictEqual(run.code, 1, run.stdout + run.stderr);
    const out = parse(run);
    for (const name of ["release-revision", "pods-healthy"]) {
      assert.strictEqual(checkOf(out, name).ok, false, name);
      assert.match(checkOf(out, name).detail, /in namespace prod: cannot load the kubeconfig/, name);
    }
    assert.strictEqual(out.firstInstall, null);
    assert.strictEqual(checkOf(out, "database").ok, true);
  });
});

describe("minor-version gate (pure)", () => {
  const running = (tag: string) => ({ state: "running" as const, tag });

  it("passes outside protected stacks and when no api image is given (as skipped)", () => {
    assert.strictEqual(
      evaluateUpgradeGate({ protectedStack: false, destructive: true, targetTag: "v2.0.0", running: running("v1.0.0") })
        .ok,
      true,
    );
    const none = evaluateUpgradeGate({ protectedStack: true, destructive: false, running: running("v1.0.0") });
    assert.strictEqual(none.skipped, true);
  });

  it("requires the exact target for minor crossings, digests and unknown running versions", () => {
    const digest = `sha256:${"b".repeat(64)}`;
    assert.strictEqual(
      evaluateUpgradeGate({ protectedStack: true, destructive: false, targetTag: digest, running: running("v1.2.3") })
        .ok,
      false,
    );
    assert.strictEqual(
      evaluateUpgradeGate({
        protectedStack: true,
        destructive: false,
        targetTag: digest,
        acknowledge: digest,
        running: running("v1.2.3"),
      }).ok,
      true,
    );
    const unknown = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      targetTag: "v1.2.4",
      running: { state: "unknown", reason: "no Deployment of the release has a container named api", skipped: false },
    });
    assert.strictEqual(unknown.ok, false);
    assert.match(unknown.detail, /running api version is unknown/);
  });

  it("without cluster access: skipped, unless destructive (then it needs the acknowledgement)", () => {
    const unknown = { state: "unknown" as const, reason: "--skip-cluster", skipped: true };
    assert.strictEqual(
      evaluateUpgradeGate({ protectedStack: true, destructive: false, targetTag: "v1.3.0", running: unknown }).skipped,
      true,
    );
    assert.strictEqual(
      evaluateUpgradeGate({ protectedStack: true, destructive: true, targetTag: "v1.3.0", running: unknown }).ok,
      false,
    );
    assert.strictEqual(
      evaluateUpgradeGate({
        protectedStack: true,
        destructive: true,
        targetTag: "v1.3.0",
        acknowledge: "v1.3.0",
        running: unknown,
      }).ok,
      true,
    );
  });

  it("a first install crosses nothing", () => {
    const result = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      targetTag: "v1.3.0",
      running: { state: "first-install" },
    });
    assert.strictEqual(result.ok, true);
    assert.strictEqual(result.skipped, undefined);
  });
});
