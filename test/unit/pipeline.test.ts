import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, promiseOf, RecordedResource } from "../support/pulumiMocks";
import { PROJECT_DIR, rawConfig, validRawValues } from "../support/stackConfig";
import type { LiveObservation } from "../../components/liveRelease";
import { desiredRelease } from "../../src/lib/release/desired-release";
import { releaseGuard } from "../../src/lib/release/guard";

const recorded: RecordedResource[] = installMocks();

type PipelineModule = typeof import("../../components/upgradePipeline");
type ConfigModule = typeof import("../../src/lib/config/validate");

/** The options each resource was constructed with, seen through a transformation on the pipeline. */
interface SeenOptions {
  readonly type: string;
  readonly name: string;
  readonly resource: pulumi.Resource;
  readonly dependsOn: pulumi.Resource[];
  readonly parent?: pulumi.Resource;
  readonly import?: string;
  readonly ignoreChanges: string[];
}

async function buildPipeline(
  overrides: Record<string, unknown> = {},
  name = "alexandria-ee",
  extra: Record<string, unknown> = {},
  observe?: (config: import("../../src/lib/config/schema").RunbookConfig) => LiveObservation,
) {
  const { UpgradePipeline }: PipelineModule = await import("../../components/upgradePipeline");
  const { validateConfig }: ConfigModule = await import("../../src/lib/config/validate");
  const { config } = validateConfig(rawConfig(validRawValues(overrides), extra), {
    project: "release-runbook",
    stack: "unit",
    projectDir: PROJECT_DIR,
  });
  const seen: SeenOptions[] = [];
  const pipeline = new UpgradePipeline(
    name,
    { config, ...(observe ? { observation: observe(config) } : {}) },
    {
      transformations: [
        (args) => {
          const deps = args.opts.dependsOn;
          seen.push({
            type: args.type,
            name: args.name,
            resource: args.resource,
            dependsOn: deps === undefined ? [] : ((Array.isArray(deps) ? deps : [deps]) as pulumi.Resource[]),
            parent: args.opts.parent,
            import: (args.opts as pulumi.CustomResourceOptions).import as string | undefined,
            ignoreChanges: args.opts.ignoreChanges ?? [],
          });
          return undefined;
        },
      ],
    },
  );
  // Let every registration reach the mocks.
  await promiseOf(pipeline.verification.summary);
  await promiseOf(pipeline.release.revision);
  return { pipeline, seen, config };
}

/** The paths of the values files the release was given, in merge order. */
async function valuesFilePaths(release: Record<string, any>): Promise<string[]> {
  return Promise.all((release.valueYamlFiles as Array<{ path: Promise<string> | string }>).map(async (a) => a.path));
}

function byType(type: string, prefix: string): RecordedResource {
  const found = recorded.filter((r) => r.type === type && r.name.startsWith(prefix));
  assert.strictEqual(found.length, 1, `expected one ${type} named ${prefix}*, got ${found.map((f) => f.name)}`);
  return found[0];
}

describe("UpgradePipeline resource graph", () => {
  let built: Awaited<ReturnType<typeof buildPipeline>>;
  before(async () => {
    recorded.length = 0;
    built = await buildPipeline();
  });

  it("registers exactly the expected resources, with three-part types", () => {
    const types = recorded
      .filter((r) => r.name.startsWith("alexandria-ee"))
      .map((r) => r.type)
      .sort();
    assert.deepStrictEqual(types, [
      "command:local:Command",
      "command:local:Command",
      "command:local:Command",
      "kubernetes:helm.sh/v3:Release",
      "random:index/randomId:RandomId",
      "release-runbook:checks:Preflight",
      "release-runbook:checks:Verification",
      "release-runbook:db:PostgresSnapshot",
      "release-runbook:helm:TieredRelease",
      "release-runbook:pipeline:UpgradePipeline",
    ]);
    const components = built.seen
      .filter((s) => s.type.startsWith("release-runbook:"))
      .map((s) => s.type)
      .sort();
    assert.deepStrictEqual(components, [
      "release-runbook:checks:Preflight",
      "release-runbook:checks:Verification",
      "release-runbook:db:PostgresSnapshot",
      "release-runbook:helm:TieredRelease",
      "release-runbook:pipeline:UpgradePipeline",
    ]);
    for (const t of components) assert.strictEqual(t.split(":").length, 3);
  });

  it("parents every child to its component", () => {
    const component = (type: string) => built.seen.find((s) => s.type === type)!.resource;
    const parentOf = (type: string) => built.seen.find((s) => s.type === type)!.parent;
    assert.strictEqual(parentOf("kubernetes:helm.sh/v3:Release"), component("release-runbook:helm:TieredRelease"));
    assert.strictEqual(parentOf("random:index/randomId:RandomId"), component("release-runbook:db:PostgresSnapshot"));
    assert.strictEqual(parentOf("release-runbook:helm:TieredRelease"), built.pipeline);
    const commands = built.seen.filter((s) => s.type === "command:local:Command");
    assert.deepStrictEqual(commands.map((c) => (c.parent as unknown as { __pulumiType: string }).__pulumiType).sort(), [
      "release-runbook:checks:Preflight",
      "release-runbook:checks:Verification",
      "release-runbook:db:PostgresSnapshot",
    ]);
  });

  it("makes the release atomic, cleaned up on failure, with the runbook's timeout and a bounded history", () => {
    const release = byType("kubernetes:helm.sh/v3:Release", "alexandria-ee").inputs;
    assert.strictEqual(release.atomic, true);
    assert.strictEqual(release.cleanupOnFail, true);
    assert.strictEqual(release.waitForJobs, true, "a failing migration Job must fail the rollout");
    assert.strictEqual(release.timeout, 600);
    assert.strictEqual(release.maxHistory, 10);
    assert.strictEqual(release.name, "alexandria-ee");
    assert.strictEqual(release.namespace, "alexandria");
    assert.strictEqual(release.chart, "test/fixtures/charts/alexandria-ee");
    assert.strictEqual(release.version, "1.4.0");
  });

  it("layers values base → tier and pins every tag in the inline values", async () => {
    const release = byType("kubernetes:helm.sh/v3:Release", "alexandria-ee").inputs;
    const files = await valuesFilePaths(release);
    assert.deepStrictEqual(files, [
      "test/fixtures/charts/alexandria-ee/values.yaml",
      "test/fixtures/charts/alexandria-ee/values-enterprise.yaml",
    ]);
    assert.deepStrictEqual(release.values.image, {
      api: { tag: "v1.4.0" },
      orchestrator: { tag: "v1.4.0" },
      dashboard: { tag: "v1.4.0" },
    });
  });

  it("keeps the snapshot's id by exactly the target versions", () => {
    const id = byType("random:index/randomId:RandomId", "alexandria-ee").inputs;
    assert.deepStrictEqual(id.keepers, {
      chartVersion: "1.4.0",
      "image.api": "v1.4.0",
      "image.dashboard": "v1.4.0",
      "image.orchestrator": "v1.4.0",
      tier: "enterprise",
    });
  });

  it("orders preflight → snapshot → release → verification with explicit dependsOn, down to the children", () => {
    const component = (type: string) => built.seen.find((s) => s.type === type)!;
    const preflight = component("release-runbook:checks:Preflight").resource;
    const snapshot = component("release-runbook:db:PostgresSnapshot");
    const release = component("release-runbook:helm:TieredRelease");
    const verification = component("release-runbook:checks:Verification");
    assert.ok(snapshot.dependsOn.includes(preflight), "snapshot must depend on preflight");
    assert.ok(release.dependsOn.includes(snapshot.resource), "release must depend on the snapshot");
    assert.ok(release.dependsOn.includes(preflight), "release must depend on preflight");
    assert.ok(verification.dependsOn.includes(release.resource), "verification must depend on the release");
    const helm = built.seen.find((s) => s.type === "kubernetes:helm.sh/v3:Release")!;
    assert.ok(helm.dependsOn.includes(snapshot.resource), "the helm Release itself must wait for the snapshot");
    const dump = built.seen.find((s) => s.type === "command:local:Command" && s.name.endsWith("-dump"))!;
    assert.ok(dump.dependsOn.includes(preflight), "the dump itself must wait for preflight");
    const verify = built.seen.find((s) => s.type === "command:local:Command" && s.name.endsWith("-verify"))!;
    assert.ok(verify.dependsOn.includes(release.resource), "the verify command must wait for the release");
  });

  it("passes every config value through the environment, never in the command line", () => {
    const commands = recorded.filter((r) => r.type === "command:local:Command");
    for (const c of commands) {
      assert.match(String(c.inputs.create), /^node \.\/bin\/runbook\.js [a-z]+ /);
      assert.doesNotMatch(String(c.inputs.create), /v1\.4\.0|alexandria-db|127\.0\.0\.1/, c.inputs.create);
    }
    const preflight = byType("command:local:Command", "alexandria-ee-preflight").inputs;
    assert.strictEqual(
      preflight.environment.RUNBOOK_ARG_IMAGES,
      "api=127.0.0.1:15000/alexandria/api:v1.4.0,dashboard=127.0.0.1:15000/alexandria/dashboard:v1.4.0,orchestrator=127.0.0.1:15000/alexandria/orchestrator:v1.4.0",
    );
    assert.strictEqual(preflight.environment.RUNBOOK_ARG_DSN_SECRET, "alexandria-db/dsn");
    const dump = byType("command:local:Command", "alexandria-ee-snapshot-dump").inputs;
    assert.strictEqual(dump.environment.RUNBOOK_ARG_NAME, "alexandria-ee-0a1b2c3d");
    assert.strictEqual(dump.environment.RUNBOOK_DSN_SECRET, "alexandria/alexandria-db/dsn");
    const context = JSON.parse(dump.environment.RUNBOOK_ARG_CONTEXT_JSON);
    assert.strictEqual(context.releaseRevision, 3);
    assert.strictEqual(context.fromApiTag, "v1.3.0");
    const verify = byType("command:local:Command", "alexandria-ee-verification").inputs;
    assert.strictEqual(verify.environment.RUNBOOK_ARG_EXPECT_TIER, "enterprise");
    assert.strictEqual(verify.environment.RUNBOOK_VERIFIED_REVISION, "4");
    assert.doesNotMatch(verify.create, /--first-install/, "preflight said this is an upgrade");
  });

  it("exposes the snapshot and verification results parsed from the CLI", async () => {
    assert.strictEqual(await promiseOf(built.pipeline.snapshot.path), "/snap/x");
    assert.strictEqual(await promiseOf(built.pipeline.snapshot.sha256), "ab".repeat(32));
    assert.strictEqual(await promiseOf(built.pipeline.verification.summary), "ready=ok license=warn");
    assert.strictEqual(await promiseOf(built.pipeline.release.revision), 4);
  });
});

describe("UpgradePipeline options", () => {
  beforeEach(() => {
    recorded.length = 0;
  });

  it("adopts a hand-installed release by importing <namespace>/<name>", async () => {
    const { seen } = await buildPipeline({ adoptExistingRelease: "true" }, "adopt");
    const helm = seen.find((s) => s.type === "kubernetes:helm.sh/v3:Release")!;
    assert.strictEqual(helm.import, "alexandria/alexandria-ee");
  });

  it("does not import when not adopting", async () => {
    const { seen } = await buildPipeline({}, "noadopt");
    assert.strictEqual(seen.find((s) => s.type === "kubernetes:helm.sh/v3:Release")!.import, undefined);
  });

  it("uses the tier's values file and the configured timeout and history", async () => {
    await buildPipeline({ tier: "starter", helmTimeoutSeconds: "900", maxHistory: "20" }, "starter");
    const release = byType("kubernetes:helm.sh/v3:Release", "starter").inputs;
    const files = await valuesFilePaths(release);
    assert.ok(
      files.some((f) => f.endsWith("values-starter.yaml")),
      files.join(),
    );
    assert.ok(!files.some((f) => f.endsWith("values-enterprise.yaml")), files.join());
    assert.strictEqual(release.timeout, 900);
    assert.strictEqual(release.maxHistory, 20);
  });

  it("site values cannot unpin a tag", async () => {
    await buildPipeline({ siteValues: { image: { api: { tag: "latest", pullPolicy: "Always" } } } }, "site");
    const release = byType("kubernetes:helm.sh/v3:Release", "site").inputs;
    assert.deepStrictEqual(release.values.image.api, { tag: "v1.4.0", pullPolicy: "Always" });
  });

  it("passes the protected-stack gate flags to preflight", async () => {
    await buildPipeline({ protected: "true", acknowledgeUpgrade: "v1.4.0", destructive: "true" }, "gate");
    const preflight = byType("command:local:Command", "gate-preflight").inputs;
    assert.match(preflight.create, / --protected --destructive --json$/);
    assert.strictEqual(preflight.environment.RUNBOOK_ARG_ACKNOWLEDGE, "v1.4.0");
  });

  it("passes allowUnverifiedDatabaseTls's reason to preflight as --allow-unverified-database-tls", async () => {
    const reason = "the Cloud SQL proxy verifies the server";
    await buildPipeline({ protected: "true", allowUnverifiedDatabaseTls: reason }, "tls");
    const preflight = byType("command:local:Command", "tls-preflight").inputs;
    assert.match(preflight.create, / --allow-unverified-database-tls "\$RUNBOOK_ARG_ALLOW_UNVERIFIED_DATABASE_TLS"/);
    assert.strictEqual(preflight.environment.RUNBOOK_ARG_ALLOW_UNVERIFIED_DATABASE_TLS, reason);
  });
});

describe("first install, as verification sees it", () => {
  it("is Helm's revision 1 of a release the stack installed, never of an adopted one", async () => {
    const { isFirstInstall } = await import("../../components/upgradePipeline");
    assert.strictEqual(isFirstInstall(1, false), true);
    assert.strictEqual(isFirstInstall(2, false), false);
    assert.strictEqual(isFirstInstall(1, true), false);
  });

  it("gives the snapshot the Secrets to save and the Redis URL through its environment only", async () => {
    await buildPipeline({ backupSecrets: ["alexandria-license", "alexandria-tls"] }, "companions", {
      redisUrl: pulumi.secret("redis://:r3dis-pw@redis:6379"),
    });
    const dump = byType("command:local:Command", "companions-snapshot-dump").inputs;
    // The secret URL makes the whole environment a secret (the engine encrypts it in the state).
    assert.strictEqual(dump.environment[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
    const environment = dump.environment.value;
    assert.strictEqual(environment.RUNBOOK_ARG_KUBE_SECRETS, "alexandria-license,alexandria-tls");
    assert.strictEqual(environment.RUNBOOK_ARG_KUBE_NAMESPACE, "alexandria");
    assert.strictEqual(environment.RUNBOOK_REDIS_URL, "redis://:r3dis-pw@redis:6379");
    assert.match(
      dump.create,
      /--kube-secrets "\$RUNBOOK_ARG_KUBE_SECRETS" --kube-namespace "\$RUNBOOK_ARG_KUBE_NAMESPACE"/,
    );
    assert.doesNotMatch(dump.create, /r3dis-pw|alexandria-license/);
  });

  it("asks for no companion backups when none are configured", async () => {
    await buildPipeline({}, "plain");
    const dump = byType("command:local:Command", "plain-snapshot-dump").inputs;
    assert.strictEqual(dump.environment.RUNBOOK_ARG_KUBE_SECRETS, undefined);
    assert.strictEqual(dump.environment.RUNBOOK_REDIS_URL, undefined);
    assert.doesNotMatch(dump.create, /--kube-secrets/);
  });
});

describe("TieredRelease's resource options", () => {
  it("protects a protected stack's release and retains it on delete when asked; adopts by namespace/name", async () => {
    const { releaseResourceOptions } = await import("../../components/tieredRelease");
    const base = {
      namespace: "alexandria",
      releaseName: "alexandria-ee",
      chart: { kind: "repository" as const, chart: "oci://registry.example/charts/a", version: "1.0.0" },
      tier: "enterprise" as const,
      valuesFiles: ["values.yaml"],
      imageTags: { api: "v1.2.3" },
    };
    assert.deepStrictEqual(releaseResourceOptions(base), {
      provider: undefined,
      import: undefined,
      protect: false,
      retainOnDelete: false,
      ignoreChanges: [],
    });
    const prod = releaseResourceOptions({ ...base, protect: true, retainOnDelete: true, adoptExistingRelease: true });
    assert.strictEqual(prod.protect, true);
    assert.strictEqual(prod.retainOnDelete, true);
    assert.strictEqual(prod.import, "alexandria/alexandria-ee");
  });
});

describe("UpgradePipeline keyed to the live release", () => {
  const observation =
    (live: "in-sync" | "rolled-back-by-hand") =>
    (config: import("../../src/lib/config/schema").RunbookConfig): LiveObservation => {
      const desired = desiredRelease(config, PROJECT_DIR);
      const serving =
        live === "in-sync"
          ? {
              revision: 9,
              status: "deployed",
              chartVersion: config.chart.version,
              description: desired.description,
              imageTags: { ...config.imageTags },
            }
          : {
              revision: 9,
              status: "deployed",
              chartVersion: config.chart.version,
              description: "Rollback to 1",
              imageTags: { api: "v1.3.0" },
            };
      return { desired, live: serving, guard: releaseGuard(desired, serving), liveSchemaVersion: null };
    };
  const guardedPaths = (seen: SeenOptions[]) =>
    Object.fromEntries(seen.filter((s) => s.ignoreChanges.length > 0).map((s) => [s.name, s.ignoreChanges]));

  it("drifted (a hand helm rollback): preflight and the snapshot are keyed to what serves, the release gets a note", async () => {
    recorded.length = 0;
    const built = await buildPipeline({}, "drift", {}, observation("rolled-back-by-hand"));
    const preflight = byType("command:local:Command", "drift-preflight").inputs;
    assert.match(preflight.environment.RUNBOOK_RELEASE_INPUTS, /^[0-9a-f]{16}$/);
    assert.match(preflight.environment.RUNBOOK_LIVE_RELEASE, /^revision 9 deployed, .*api v1\.3\.0 serves/);
    const keepers = byType("random:index/randomId:RandomId", "drift-snapshot").inputs.keepers;
    assert.strictEqual(keepers.releaseInputs, preflight.environment.RUNBOOK_RELEASE_INPUTS);
    assert.strictEqual(keepers.liveRelease, preflight.environment.RUNBOOK_LIVE_RELEASE);
    const release = byType("kubernetes:helm.sh/v3:Release", "drift").inputs;
    assert.match(release.description, /; inputs [0-9a-f]{16} \| applied over revision 9 \(deployed\)$/);
    assert.deepStrictEqual(guardedPaths(built.seen), {});
  });

  it("in sync: the live parts are ignored, so a no-op up changes nothing", async () => {
    recorded.length = 0;
    const built = await buildPipeline({}, "sync", {}, observation("in-sync"));
    assert.strictEqual(
      byType("command:local:Command", "sync-preflight").inputs.environment.RUNBOOK_LIVE_RELEASE,
      "in sync",
    );
    assert.deepStrictEqual(guardedPaths(built.seen), {
      "sync-preflight-preflight": ["environment.RUNBOOK_LIVE_RELEASE"],
      "sync-snapshot-id": ["keepers.liveRelease"],
      "sync-snapshot-dump": ["environment.RUNBOOK_ARG_CONTEXT_JSON"],
      "sync-release-release": ["description"],
    });
    const release = byType("kubernetes:helm.sh/v3:Release", "sync").inputs;
    assert.doesNotMatch(release.description, /applied over/);
  });
});
