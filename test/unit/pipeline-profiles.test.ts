import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, promiseOf, RecordedResource } from "../support/pulumiMocks";
import { emRuntimeRawValues, PROJECT_DIR, rawConfig, validRawValues } from "../support/stackConfig";

const recorded: RecordedResource[] = installMocks();

type PipelineModule = typeof import("../../components/upgradePipeline");
type ConfigModule = typeof import("../../src/lib/config/validate");

/** Builds the pipeline for these raw values under a name of its own, and returns the resources it registered. */
async function registered(
  name: string,
  values: Record<string, unknown>,
  extra: Parameters<typeof rawConfig>[1] = {},
): Promise<RecordedResource[]> {
  const { UpgradePipeline }: PipelineModule = await import("../../components/upgradePipeline");
  const { validateConfig }: ConfigModule = await import("../../src/lib/config/validate");
  const { config } = validateConfig(rawConfig(values, extra), {
    project: "release-runbook",
    stack: "unit",
    projectDir: PROJECT_DIR,
  });
  const pipeline = new UpgradePipeline(name, { config });
  await promiseOf(pipeline.verification.summary);
  await promiseOf(pipeline.release.revision);
  return recorded.filter((r) => r.name.startsWith(`${name}-`));
}

function command(
  resources: RecordedResource[],
  suffix: string,
): { create: string; environment: Record<string, string>; secretEnvironment: boolean } {
  const found = resources.filter((r) => r.type === "command:local:Command" && r.name.endsWith(suffix));
  assert.strictEqual(found.length, 1, `expected one command *${suffix}, got ${resources.map((r) => r.name)}`);
  const environment = found[0].inputs.environment ?? {};
  // A secret input (the Redis URL) makes the whole environment a secret, recorded wrapped.
  const secretEnvironment = environment[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
  return {
    create: String(found[0].inputs.create),
    environment: secretEnvironment ? environment.value : environment,
    secretEnvironment,
  };
}

describe("UpgradePipeline by application profile", () => {
  it("em-runtime snapshots the whole server (runbook snapshot --all-databases), as its guide's pg_dumpall", async () => {
    const resources = await registered("em-server", emRuntimeRawValues());
    const dump = command(resources, "-snapshot-dump");
    assert.match(dump.create, /runbook\.js snapshot .*--all-databases/);
    for (const flag of ["--format", "--schema-version-query"]) {
      assert.ok(!dump.create.includes(flag), `${flag} in ${dump.create}`);
    }
    assert.ok(!("RUNBOOK_REDIS_URL" in dump.environment), "no redisUrl configured, no Redis saved");
    assert.strictEqual(dump.environment.RUNBOOK_DSN_SECRET, "em/em-runtime-db/dsn");
    // The same component and resource names as Alexandria's single-database snapshot: no alias needed.
    assert.ok(
      resources.some((r) => r.type === "release-runbook:db:PostgresSnapshot" && r.name === "em-server-snapshot"),
    );
  });

  it("em-runtime's server snapshot saves the profile's Secrets and the configured Redis, by environment only", async () => {
    const resources = await registered("em-companions", emRuntimeRawValues(), {
      redisUrl: pulumi.secret("redis://:r3dis-pw@em-redis:6379"),
    });
    const dump = command(resources, "-snapshot-dump");
    assert.match(
      dump.create,
      /snapshot .*--kube-secrets "\$RUNBOOK_ARG_KUBE_SECRETS" --kube-namespace "\$RUNBOOK_ARG_KUBE_NAMESPACE".* --all-databases/,
    );
    // The profile's backupSecrets (the guide's two Secrets), in the release's namespace.
    assert.strictEqual(dump.environment.RUNBOOK_ARG_KUBE_SECRETS, "em-runtime-secrets,infisical-bootstrap-secret");
    assert.strictEqual(dump.environment.RUNBOOK_ARG_KUBE_NAMESPACE, "em");
    assert.strictEqual(dump.environment.RUNBOOK_REDIS_URL, "redis://:r3dis-pw@em-redis:6379");
    assert.ok(dump.secretEnvironment, "the Redis URL must keep the environment secret in the state");
    assert.doesNotMatch(dump.create, /r3dis-pw/);

    // backupSecrets set in the stack replaces the profile's list.
    const own = await registered("em-own-secrets", emRuntimeRawValues({ backupSecrets: ["em-runtime-secrets"] }));
    assert.strictEqual(command(own, "-snapshot-dump").environment.RUNBOOK_ARG_KUBE_SECRETS, "em-runtime-secrets");
  });

  it("em-runtime's verification decides a failure by the server snapshot's databases, not a schema query", async () => {
    const resources = await registered("em-verify", emRuntimeRawValues({ schemaVersionQuery: "select 1" }));
    const verify = command(resources, "-verification-verify");
    assert.match(verify.create, /--pre-upgrade-server-snapshot "\$RUNBOOK_ARG_PRE_UPGRADE_SERVER_SNAPSHOT"/);
    assert.strictEqual(verify.environment.RUNBOOK_ARG_PRE_UPGRADE_SERVER_SNAPSHOT, "/snap/x");
    for (const flag of ["--pre-upgrade-snapshot ", "--pre-upgrade-schema", "--schema-version-query"]) {
      assert.ok(!verify.create.includes(flag), `${flag} in ${verify.create}`);
    }
    const alexandria = command(await registered("alex-verify", validRawValues()), "-verification-verify");
    assert.match(alexandria.create, /--pre-upgrade-snapshot "/);
    assert.ok(!alexandria.create.includes("--pre-upgrade-server-snapshot"), alexandria.create);
  });

  it("em-runtime's preflight gates on the chart version and checks no image when none is overridden", async () => {
    const resources = await registered("em-gate", emRuntimeRawValues());
    const preflight = command(resources, "-preflight-preflight");
    assert.match(preflight.create, /--chart-version "\$RUNBOOK_ARG_CHART_VERSION"/);
    assert.strictEqual(preflight.environment.RUNBOOK_ARG_CHART_VERSION, "4.8.6");
    assert.ok(!preflight.create.includes("--images"), preflight.create);
  });

  it("em-runtime with snapshotScope database takes the single-database snapshot with its Secrets", async () => {
    const resources = await registered("em-db", emRuntimeRawValues({ snapshotScope: "database" }));
    const dump = command(resources, "-snapshot-dump");
    assert.ok(!dump.create.includes("--all-databases"), dump.create);
    assert.match(dump.create, /--kube-secrets/);
  });

  it("Alexandria EE keeps the single-database snapshot and the api tag's gate", async () => {
    const resources = await registered("alex-db", validRawValues());
    const dump = command(resources, "-snapshot-dump");
    assert.ok(!dump.create.includes("--all-databases"), dump.create);
    assert.match(dump.create, /--format/);
    const preflight = command(resources, "-preflight-preflight");
    assert.ok(!preflight.create.includes("--chart-version"), preflight.create);
    assert.match(preflight.create, /--images/);
  });

  it("pulls an oci:// chart with the chart registry's credentials, the password kept secret", async () => {
    const { releaseInputs } = await import("../../components/tieredRelease");
    const chart = {
      kind: "repository",
      chart: "oci://ghcr.io/emergenceai/charts/em-runtime",
      version: "4.8.6",
    } as const;
    const base = { namespace: "em", releaseName: "em-runtime", chart, valuesFiles: [], imageTags: {} };
    assert.strictEqual(releaseInputs(base).repositoryOpts, undefined);
    const opts = releaseInputs({ ...base, chartRegistry: { username: "acme-bot", password: pulumi.secret("pat") } })
      .repositoryOpts as { username?: string; password?: pulumi.Output<string>; repo?: string };
    assert.strictEqual(opts.username, "acme-bot");
    assert.strictEqual(opts.repo, undefined);
    assert.ok(opts.password !== undefined);
    assert.strictEqual(await pulumi.isSecret(opts.password), true);
    // The release's description names the chart version when there is no tier.
    assert.strictEqual(releaseInputs(base).description, "release-runbook: chart 4.8.6");
  });
});
