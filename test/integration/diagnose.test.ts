/**
 * `runbook diagnose` gathers what the em-runtime guide's troubleshooting section asks for, through a fake
 * Kubernetes API: the previous run's logs of crash-looping containers, the recent events of the release's
 * pods, init containers waiting on dependencies, the infrastructure pods and Keycloak's logs, with secrets
 * masked.
 */
import assert from "node:assert/strict";
import { componentLabels, EM_COMPONENT, EmPod, podEvent } from "../fixtures/alexandria-api/em-runtime-objects";
import { FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { buildCli, CliRun, runCli } from "../support/postgres";
import { EM, EM_RELEASE, EM_RELEASE_NAME, EmNamespace, startEmCluster } from "../support/emCluster";
import { maskSecrets } from "../../src/lib/diagnose/mask-secrets";

/** A value of the Secret the governance pod takes its environment from. */
const DB_PASSWORD = "gov-db-pw-5e1c77";
const GOVERNANCE = "em-runtime-governance-7d9f-abcde";
const ASSETS = "em-runtime-assets-66b4-fghij";
const UTILS = "em-runtime-utils-58c2-klmno";

const pods: EmPod[] = [
  {
    name: GOVERNANCE,
    labels: componentLabels(EM_RELEASE_NAME, "governance"),
    containers: [{ name: "governance", state: "crash-loop", restarts: 7, exitCode: 1 }],
    secretRefs: ["em-runtime-secrets"],
  },
  {
    name: ASSETS,
    labels: componentLabels(EM_RELEASE_NAME, "assets"),
    initContainers: [{ name: "wait-for-postgres", state: "running" }, { name: "wait-for-keycloak" }],
    containers: [{ name: "assets", state: { waiting: "PodInitializing" } }],
  },
  { name: UTILS, labels: componentLabels(EM_RELEASE_NAME, "utils"), containers: [{ name: "utils" }] },
  { name: "postgresql-0", labels: { [EM_COMPONENT]: "database" }, containers: [{ name: "postgresql" }] },
  { name: "keycloak-0", labels: { app: "keycloak" }, containers: [{ name: "keycloak" }] },
  { name: "other-app-1", labels: { app: "other" }, containers: [{ name: "other", state: "crash-loop" }] },
];

const events = [
  podEvent(
    GOVERNANCE,
    "Warning",
    "BackOff",
    "Back-off restarting failed container governance",
    "2026-11-30T06:20:00Z",
    12,
  ),
  podEvent(ASSETS, "Normal", "Started", "Started container wait-for-postgres", "2026-11-30T06:10:00Z"),
  podEvent(
    GOVERNANCE,
    "Normal",
    "Pulled",
    "Container image registry/governance:4.8.6 already present",
    "2026-11-30T06:05:00Z",
  ),
  podEvent("other-app-1", "Warning", "BackOff", "not the release's", "2026-11-30T06:30:00Z"),
];

interface DiagnoseJson {
  ok: boolean;
  pods: { name: string; phase: string; ready: boolean; restarts: number; problem?: string }[];
  crashLoops: {
    pod: string;
    container: string;
    init: boolean;
    restarts: number;
    lastExit?: string;
    previousLogs: string[];
    migrationErrors: string[];
  }[];
  events: { pod: string; type: string; reason: string; message: string; count: number; lastSeen?: string }[];
  waitingInitContainers: { pod: string; container: string; state: string; since?: string; logs: string[] }[];
  infrastructure: { selector: string; pods: { name: string }[] };
  keycloak: { selector: string; pods: string[]; logs: string[] };
  errors: string[];
}

describe("runbook diagnose (fake Kubernetes API)", function () {
  this.timeout(60_000);
  let kube: FakeKubeApi | undefined;

  before(async function () {
    this.timeout(120_000);
    await buildCli();
  });
  afterEach(async () => {
    await kube?.close();
    kube = undefined;
  });

  const start = async (patch: Partial<EmNamespace> = {}) => {
    kube = await startEmCluster({
      revisions: [{ revision: 5, status: "failed" }],
      pods,
      events,
      secrets: { "em-runtime-secrets": { "database-password": DB_PASSWORD, "base-url": "https://em.example.com" } },
      ...patch,
    });
    // The previous run crashed on a migration conflict; the current one has only just started.
    kube.answer(
      EM.logOf(GOVERNANCE),
      "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n" +
        `INFO connecting to postgresql://governance:${DB_PASSWORD}@postgresql:5432/governance\n` +
        "ERROR [alembic.util.messaging] Multiple head revisions are present for given argument 'head'\n" +
        `DEBUG settings: DB_PASSWORD=${DB_PASSWORD} api_key=ak-live-0042 Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig\n`,
      200,
      { previous: "true" },
    );
    kube.answer(EM.logOf(GOVERNANCE), "INFO starting governance\n");
    kube.answer(EM.logOf(ASSETS), "waiting for postgresql:5432...\nwaiting for postgresql:5432...\n", 200, {
      container: "wait-for-postgres",
    });
    kube.answer(EM.logOf("keycloak-0"), `Keycloak 26.0 started; admin password=${DB_PASSWORD}\n`);
    return kube;
  };

  const diagnose = (...extra: string[]): Promise<CliRun> =>
    runCli(["diagnose", ...EM_RELEASE, "--log-lines", "40", ...extra], kube!.cliOptions());

  it("--json: previous logs of the crash-looping container, events, waiting init containers, infrastructure, Keycloak", async () => {
    await start();
    const run = await diagnose("--json");
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const out = run.json as unknown as DiagnoseJson;
    assert.equal(out.ok, true);
    assert.deepEqual(out.errors, []);
    assert.deepEqual(
      out.pods.map((p) => [p.name, p.phase, p.ready, p.restarts]),
      [
        [GOVERNANCE, "Running", false, 7],
        [ASSETS, "Pending", false, 0],
        [UTILS, "Running", true, 0],
      ],
    );
    assert.match(out.pods[0]!.problem ?? "", /CrashLoopBackOff \(governance, 7 restarts\)/);

    assert.equal(out.crashLoops.length, 1, JSON.stringify(out.crashLoops));
    const crash = out.crashLoops[0]!;
    assert.deepEqual(
      [crash.pod, crash.container, crash.init, crash.restarts, crash.lastExit],
      [GOVERNANCE, "governance", false, 7, "Error, exit code 1"],
    );
    assert.deepEqual(crash.migrationErrors, ["alembic multiple heads"]);
    assert.equal(
      crash.previousLogs[2],
      "ERROR [alembic.util.messaging] Multiple head revisions are present for given argument 'head'",
      "the previous run's logs, readable",
    );
    assert.equal(crash.previousLogs[1], "INFO connecting to postgresql://governance:***@postgresql:5432/governance");
    assert.equal(crash.previousLogs[3], "DEBUG settings: DB_PASSWORD=*** api_key=*** Authorization: Bearer ***");
    const previous = kube!.requests().find((r) => r.path === EM.logOf(GOVERNANCE));
    assert.deepEqual(previous?.query, { container: "governance", tailLines: "40", previous: "true" });

    assert.deepEqual(
      out.events.map((e) => [e.pod, e.reason, e.count, e.lastSeen]),
      [
        [GOVERNANCE, "BackOff", 12, "2026-11-30T06:20:00.000Z"],
        [ASSETS, "Started", 1, "2026-11-30T06:10:00.000Z"],
        [GOVERNANCE, "Pulled", 1, "2026-11-30T06:05:00.000Z"],
      ],
      "the release's pods only, newest first",
    );
    assert.deepEqual(kube!.requests().find((r) => r.path === EM.events)?.query, {
      fieldSelector: "involvedObject.kind=Pod",
    });

    assert.deepEqual(out.waitingInitContainers, [
      {
        pod: ASSETS,
        container: "wait-for-postgres",
        state: "running",
        since: "2026-11-30T06:00:00Z",
        logs: ["waiting for postgresql:5432...", "waiting for postgresql:5432..."],
      },
    ]);
    assert.deepEqual(
      out.infrastructure.pods.map((p) => p.name),
      ["postgresql-0"],
    );
    assert.deepEqual(out.keycloak, {
      selector: "app=keycloak",
      pods: ["keycloak-0"],
      logs: ["[pod/keycloak-0/keycloak] Keycloak 26.0 started; admin password=***"],
    });
    for (const secret of [DB_PASSWORD, "ak-live-0042", "eyJhbGciOi"]) {
      assert.ok(!run.stdout.includes(secret), `${secret} in ${run.stdout}`);
      assert.ok(!run.stderr.includes(secret), `${secret} in ${run.stderr}`);
    }
  });

  it("prints each section as text for an operator", async () => {
    await start();
    const run = await diagnose();
    assert.equal(run.code, 0, run.stderr);
    const text = run.stdout;
    assert.match(text, /^diagnose em-runtime in namespace em$/m);
    assert.match(text, /^pods of the release \(app\.kubernetes\.io\/instance=em-runtime\): 3$/m);
    assert.match(
      text,
      new RegExp(`^ {2}pod/${GOVERNANCE}/governance: 7 restart\\(s\\), last run ended Error, exit code 1$`, "m"),
    );
    assert.match(text, /^ {4}migration errors: alembic multiple heads$/m);
    assert.match(text, /^ {4}\| ERROR \[alembic\.util\.messaging\] Multiple head revisions are present/m);
    assert.match(
      text,
      /^ {2}2026-11-30T06:20:00\.000Z {2}Warning {2}BackOff {2}pod\/em-runtime-governance-\S+ {2}Back-off restarting failed container governance \(x12\)$/m,
    );
    assert.match(text, new RegExp(`^ {2}pod/${ASSETS}/wait-for-postgres: running since 2026-11-30T06:00:00Z$`, "m"));
    assert.match(text, /^infrastructure pods \(app\.kubernetes\.io\/component=database\): 1$/m);
    assert.match(text, /^Keycloak's logs \(app=keycloak\):$/m);
    assert.ok(!text.includes(DB_PASSWORD));
  });

  it("finds Keycloak by app.kubernetes.io/name when app=keycloak labels nothing, and says when there is none", async () => {
    const relabelled = pods.map((p) =>
      p.name === "keycloak-0" ? { ...p, labels: { "app.kubernetes.io/name": "keycloak" } } : p,
    );
    await start({ pods: relabelled });
    const found = (await diagnose("--json")).json as unknown as DiagnoseJson;
    assert.equal(found.keycloak.selector, "app.kubernetes.io/name=keycloak");
    assert.deepEqual(found.keycloak.pods, ["keycloak-0"]);
    await kube!.close();

    await start({ pods: pods.filter((p) => p.name !== "keycloak-0") });
    const none = await diagnose();
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no pods labelled app=keycloak in namespace em/);
  });

  it("a part that cannot be read is named under errors (exit 1), and the rest is still reported", async () => {
    await start();
    kube!.answer(EM.events, { kind: "Status", code: 403 }, 403);
    const run = await diagnose("--json");
    assert.equal(run.code, 1, run.stdout);
    const out = run.json as unknown as DiagnoseJson;
    assert.equal(out.ok, false);
    assert.match(out.errors.join("\n"), /listing the events of pods in namespace em: the API server answered 403/);
    assert.equal(out.crashLoops.length, 1, "the crash-looping container is still reported");
  });

  it("a Secret the pods use that cannot be read is named; its values are still masked by pattern", async () => {
    await start({ secrets: {} });
    const run = await diagnose("--json");
    assert.equal(run.code, 1);
    const out = run.json as unknown as DiagnoseJson;
    assert.match(out.errors.join("\n"), /^Secret em-runtime-secrets: reading secret em-runtime-secrets .*404/m);
    assert.ok(!run.stdout.includes(DB_PASSWORD), run.stdout);
  });

  it("--help documents every flag, and runbook --help lists the command", async () => {
    const help = await runCli(["diagnose", "--help"]);
    assert.equal(help.code, 0);
    for (const flag of [
      "--namespace",
      "--release",
      "--context",
      "--log-lines",
      "--max-events",
      "--infrastructure-selector",
      "--keycloak-selector",
      "--json",
    ]) {
      assert.ok(help.stdout.includes(flag), flag);
    }
    assert.match((await runCli(["--help"])).stdout, /^ {2}diagnose {2,}after a failed upgrade/m);
  });

  it("exits 2 naming the flag for bad usage", async () => {
    const cases: [string[], RegExp][] = [
      [["diagnose", "--namespace", "em"], /--release is required/],
      [["diagnose", "--release", "em-runtime"], /--namespace is required/],
      [["diagnose", ...EM_RELEASE, "--log-lines", "0"], /--log-lines must be a whole number of at least 1/],
      [
        ["diagnose", ...EM_RELEASE, "--keycloak-selector", "keycloak"],
        /--keycloak-selector 'keycloak' is not a label selector/,
      ],
      [
        ["diagnose", "--namespace", "EM", "--release", "em-runtime"],
        /--namespace 'EM' is not a Kubernetes namespace name/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, pattern, args.join(" "));
    }
  });
});

describe("diagnose: maskSecrets", () => {
  it("masks known values, URL passwords, secret assignments, bearer tokens and JWTs, keeping the rest", () => {
    const mask = (line: string) => maskSecrets(line, ["s3cr3t-value"], {});
    assert.equal(mask("login failed for s3cr3t-value"), "login failed for ***");
    assert.equal(mask("redis://:pw123456@redis:6379/0 down"), "redis://:***@redis:6379/0 down");
    assert.equal(mask('{"client_secret": "abc123", "user": "bob"}'), '{"client_secret": ***, "user": "bob"}');
    assert.equal(mask("KEYCLOAK_ADMIN_PASSWORD=hunter2 next"), "KEYCLOAK_ADMIN_PASSWORD=*** next");
    assert.equal(mask("token: abc.def"), "token: ***");
    assert.equal(mask("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic ***");
    assert.equal(mask("id eyJhbGciOiJI.eyJzdWIiOiIx.c2ln end"), "id *** end");
    assert.equal(
      mask('FATAL: password authentication failed for user "governance"'),
      'FATAL: password authentication failed for user "governance"',
    );
    assert.equal(
      maskSecrets("PG_DSN leaked: pw-from-env-1", [], { PGPASSWORD: "pw-from-env-1" }),
      "PG_DSN leaked: ***",
    );
  });
});
