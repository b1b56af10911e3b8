import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ValidationResult } from "../../src/lib/config/schema";
import { validateConfig } from "../../src/lib/config/validate";
import { emRuntimeRawValues, PROJECT_DIR, rawConfig, validRawValues } from "../support/stackConfig";

const ctx = { project: "release-runbook", stack: "unit", projectDir: PROJECT_DIR };

function validate(values: Record<string, unknown>, extra = {}): ValidationResult {
  return validateConfig(rawConfig(values, extra), ctx);
}

function problemsOf(values: Record<string, unknown>, extra = {}): readonly string[] {
  try {
    validate(values, extra);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail("validation passed but should have failed");
}

function assertProblem(values: Record<string, unknown>, key: string, pattern: RegExp, extra = {}): void {
  const problems = problemsOf(values, extra);
  const match = problems.find((p) => p.startsWith(`release-runbook:${key}:`) && pattern.test(p));
  assert.ok(match, `no problem for ${key} matching ${pattern} in:\n${problems.join("\n")}`);
}

describe("config by application profile", () => {
  it("em-runtime as its guide runs it: no tier, no tier values file, no image tags", () => {
    const { config } = validate(emRuntimeRawValues());
    assert.strictEqual(config.application, "em-runtime");
    assert.strictEqual(config.profile.application, "em-runtime");
    assert.strictEqual(config.tier, undefined);
    assert.deepStrictEqual(config.imageTags, {});
    assert.deepStrictEqual(config.chart, {
      kind: "repository",
      chart: "oci://ghcr.io/emergenceai/charts/em-runtime",
      repository: undefined,
      version: "4.8.6",
    });
    assert.deepStrictEqual(config.valuesFiles, ["deploy/em-dev/values.yaml"]);
    assert.strictEqual(config.releaseName, "em-runtime");
    assert.strictEqual(config.snapshot.scope, "server");
    assert.strictEqual(config.verification.healthPath, "/api/governance/health");
  });

  it("takes the defaults Pulumi.yaml injects for keys the stack did not set as unset", () => {
    // What the engine hands over for an em-runtime stack that sets neither a tier nor tags nor license keys.
    const { config } = validate(
      emRuntimeRawValues({ tier: "", tierValuesFile: "", imageTags: {}, licenseWarnDays: "30", maxSeats: "0" }),
    );
    assert.strictEqual(config.tier, undefined);
    assert.deepStrictEqual(config.imageTags, {});
  });

  it("Alexandria EE keeps its defaults: database snapshots, its endpoints, the api tag's version", () => {
    const { config } = validate(validRawValues());
    assert.strictEqual(config.application, "alexandria-ee");
    assert.strictEqual(config.profile.versionSource, "api-tag");
    assert.strictEqual(config.snapshot.scope, "database");
    assert.strictEqual(config.verification.healthPath, undefined);
    assert.strictEqual(config.tier, "enterprise");
  });

  it("Alexandria EE without a tier or image tags fails as before", () => {
    assertProblem(
      validRawValues({ tier: undefined }),
      "tier",
      /is required; set it to one of starter, professional, enterprise/,
    );
    assertProblem(validRawValues({ tier: "" }), "tier", /is required/);
    assertProblem(
      validRawValues({ imageTags: undefined }),
      "imageTags",
      /is required: pin api, orchestrator, dashboard/,
    );
    assertProblem(validRawValues({ imageTags: {} }), "imageTags", /is required/);
  });

  it("names the allowed applications for an unknown one", () => {
    assertProblem(
      validRawValues({ application: "wordpress" }),
      "application",
      /'wordpress' is not one of alexandria-ee, em-runtime/,
    );
  });

  it("refuses a key that does not apply to em-runtime, saying why and how to remove it", () => {
    assertProblem(
      emRuntimeRawValues({ tier: "enterprise" }),
      "tier",
      /does not apply to em-runtime: .*no license tiers.*pulumi config rm tier/,
    );
    assertProblem(
      emRuntimeRawValues({ tierValuesFile: "deploy/alexandria-ee/values-enterprise.yaml" }),
      "tierValuesFile",
      /does not apply to em-runtime: .*baseValuesFile/,
    );
    assertProblem(emRuntimeRawValues({ licenseWarnDays: "10" }), "licenseWarnDays", /does not apply to em-runtime/);
    assertProblem(emRuntimeRawValues({ maxSeats: "25" }), "maxSeats", /does not apply to em-runtime/);
  });

  it("em-runtime may override the images of its own services only", () => {
    const { config } = validate(
      emRuntimeRawValues({
        imageTags: { governance: "4.8.7" },
        imageRepositories: { governance: "ghcr.io/emergenceai/governance" },
      }),
    );
    assert.deepStrictEqual(config.imageTags, { governance: "4.8.7" });
    assertProblem(
      emRuntimeRawValues({ imageTags: { api: "v1.4.0" }, imageRepositories: { api: "r.example/api" } }),
      "imageTags.api",
      /em-runtime pins no image 'api'; it may override governance, assets, utils/,
    );
  });

  it("refuses an oci:// chart without chartVersion", () => {
    assertProblem(
      emRuntimeRawValues({ chartVersion: undefined }),
      "chartVersion",
      /required for the remote chart 'oci:\/\/ghcr.io/,
    );
  });

  it("chart-registry credentials come as a pair and only for a chart from a registry", () => {
    const password = pulumi.secret("ghp_token");
    const { config } = validate(emRuntimeRawValues({ chartRegistryUsername: "acme-bot" }), {
      chartRegistryPassword: password,
    });
    assert.strictEqual(config.chartRegistry?.username, "acme-bot");
    assert.strictEqual(config.chartRegistry?.password, password);
    assertProblem(
      emRuntimeRawValues({ chartRegistryUsername: "acme-bot" }),
      "chartRegistryPassword",
      /--secret chartRegistryPassword/,
    );
    assertProblem(emRuntimeRawValues(), "chartRegistryUsername", /is required when chartRegistryPassword is set/, {
      chartRegistryPassword: password,
    });
    assertProblem(validRawValues({ chartRegistryUsername: "acme-bot" }), "chartRegistryUsername", /local chart/, {
      chartRegistryPassword: password,
    });
  });

  it("snapshotScope: the profile's default, overridable, and one of database or server", () => {
    assert.strictEqual(validate(emRuntimeRawValues({ snapshotScope: "database" })).config.snapshot.scope, "database");
    assert.strictEqual(validate(validRawValues({ snapshotScope: "server" })).config.snapshot.scope, "server");
    assertProblem(
      emRuntimeRawValues({ snapshotScope: "cluster" }),
      "snapshotScope",
      /'cluster' is not one of database, server/,
    );
  });

  it("em-runtime's acknowledgement names the chart version, the gate's version", () => {
    const { warnings } = validate(emRuntimeRawValues({ acknowledgeUpgrade: "4.8.5" }));
    assert.ok(
      warnings.some((w) => /acknowledgeUpgrade: acknowledges 4.8.5 but the target chart version is 4.8.6/.test(w)),
      warnings.join("\n"),
    );
    assert.ok(
      !validate(emRuntimeRawValues({ acknowledgeUpgrade: "4.8.6" })).warnings.some((w) => /acknowledge/.test(w)),
    );
  });

  it("a server snapshot takes no custom format, and saves the Secrets and Redis itself: no warning", () => {
    assertProblem(
      emRuntimeRawValues({ snapshotFormat: "custom" }),
      "snapshotFormat",
      /directory-format dump per database/,
    );
    const { config, warnings } = validate(emRuntimeRawValues(), { redisUrl: pulumi.secret("redis://:pw@redis:6379") });
    assert.deepStrictEqual(warnings, []);
    assert.strictEqual(config.snapshot.scope, "server");
    assert.deepStrictEqual(config.snapshot.secrets, ["em-runtime-secrets", "infisical-bootstrap-secret"]);
    assert.deepStrictEqual(validate(emRuntimeRawValues({ snapshotScope: "database" })).warnings, []);
  });
});

describe("config keys parsed by the schema", () => {
  it("reads numbers and booleans given as such like the text Pulumi hands over", () => {
    const { config } = validate(validRawValues({ snapshotJobs: 4, protected: false, registryInsecure: true }));
    assert.strictEqual(config.snapshot.jobs, 4);
    assert.strictEqual(config.registryInsecure, true);
  });

  it("names the entry of an object that is not a string", () => {
    assertProblem(
      validRawValues({ imageTags: { api: "v1.4.0", orchestrator: 1.4, dashboard: "v1.4.0" } }),
      "imageTags.orchestrator",
      /must be a string, got 1.4; quote it in the stack file/,
    );
    assertProblem(validRawValues({ imageTags: "v1.4.0" }), "imageTags", /must be an object of component → string/);
  });
});
