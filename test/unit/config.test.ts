import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ValidationResult } from "../../src/lib/config/schema";
import { validateConfig } from "../../src/lib/config/validate";
import {
  committedStacks,
  emRuntimeRawValues,
  engineValues,
  PROJECT_DIR,
  rawConfig,
  stackFileValues,
  validRawValues,
} from "../support/stackConfig";

const ctx = { project: "release-runbook", stack: "unit", projectDir: PROJECT_DIR };

function validate(values: Record<string, unknown>, extra = {}): ValidationResult {
  return validateConfig(rawConfig(values, extra), ctx);
}

/** The problems validation reports for these values; fails the test when validation passes. */
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

describe("config validation", () => {
  it("accepts a complete config and fills the defaults", () => {
    const { config } = validate(validRawValues());
    assert.strictEqual(config.helm.timeoutSeconds, 600);
    assert.strictEqual(config.helm.maxHistory, 10);
    assert.strictEqual(config.snapshot.format, "directory");
    assert.strictEqual(config.snapshot.jobs, 2);
    assert.strictEqual(config.snapshot.dir, "snapshots/unit");
    assert.strictEqual(config.verification.logLines, 50);
    assert.deepStrictEqual(config.chart, {
      kind: "local",
      path: "test/fixtures/charts/alexandria-ee",
      version: "1.4.0",
    });
    assert.deepStrictEqual(config.valuesFiles, [
      "test/fixtures/charts/alexandria-ee/values.yaml",
      "test/fixtures/charts/alexandria-ee/values-enterprise.yaml",
    ]);
    assert.deepStrictEqual(config.imageRepositories, {
      api: "127.0.0.1:15000/alexandria/api",
      orchestrator: "127.0.0.1:15000/alexandria/orchestrator",
      dashboard: "127.0.0.1:15000/alexandria/dashboard",
    });
  });

  it("keeps a configured 0 instead of replacing it with the default", () => {
    const { config } = validate(validRawValues({ logLines: "0", licenseWarnDays: "0", maxHistory: "0" }));
    assert.strictEqual(config.verification.logLines, 0);
    assert.strictEqual(config.verification.licenseWarnDays, 0);
    assert.strictEqual(config.helm.maxHistory, 0);
  });

  it("reports every problem at once, each naming its key", () => {
    const problems = problemsOf({ tier: "gold", imageTags: { api: "latest" }, maxHistory: "1", snapshotFormat: "tar" });
    for (const key of [
      "namespace",
      "chart",
      "tier",
      "baseUrl",
      "imageTags.api",
      "imageTags.orchestrator",
      "imageTags.dashboard",
      "maxHistory",
      "snapshotFormat",
      "dsnSecret",
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(`release-runbook:${key}:`)),
        `no problem names ${key}:\n${problems.join("\n")}`,
      );
    }
    assert.ok(problems.length >= 10);
  });

  it("refuses `latest` and empty tags in every stack", () => {
    assertProblem(
      validRawValues({ imageTags: { api: "latest", orchestrator: "v1.4.0", dashboard: "v1.4.0" } }),
      "imageTags.api",
      /latest/,
    );
    assertProblem(
      validRawValues({ imageTags: { api: "", orchestrator: "v1.4.0", dashboard: "v1.4.0" } }),
      "imageTags.api",
      /empty/,
    );
  });

  it("a protected stack accepts only semver tags or digests", () => {
    assertProblem(
      validRawValues({
        protected: "true",
        imageTags: { api: "main-4f2a", orchestrator: "v1.4.0", dashboard: "v1.4.0" },
      }),
      "imageTags.api",
      /semver/,
    );
    const digest = `sha256:${"a".repeat(64)}`;
    const { config } = validate(
      validRawValues({
        protected: "true",
        imageTags: { api: digest, orchestrator: "1.4.0", dashboard: "v1.4.1-rc.1" },
      }),
    );
    assert.strictEqual(config.imageTags.api, digest);
    // The same branch tag is fine in an unprotected stack.
    validate(validRawValues({ imageTags: { api: "main-4f2a", orchestrator: "v1.4.0", dashboard: "v1.4.0" } }));
  });

  it("refuses a tag carrying shell syntax", () => {
    assertProblem(
      validRawValues({ imageTags: { api: "v1.2.3$(touch /tmp/pwned)", orchestrator: "v1.4.0", dashboard: "v1.4.0" } }),
      "imageTags.api",
      /not a valid image tag/,
    );
  });

  it("refuses unknown tiers and applications", () => {
    assertProblem(validRawValues({ tier: "platinum" }), "tier", /starter, professional, enterprise/);
    assertProblem(validRawValues({ application: "wordpress" }), "application", /alexandria-ee, em-runtime/);
  });

  it("refuses an unpinned remote chart", () => {
    assertProblem(
      validRawValues({
        chart: "oci://us-docker.pkg.dev/acme/charts/alexandria-ee",
        tierValuesFile: "deploy/alexandria-ee/values-enterprise.yaml",
      }),
      "chartVersion",
      /required for the remote chart/,
    );
    assertProblem(
      validRawValues({ chart: "alexandria-ee", chartRepository: "https://charts.example.com" }),
      "chartVersion",
      /pin it/,
    );
  });

  it("refuses a chartVersion that disagrees with the local chart", () => {
    assertProblem(validRawValues({ chartVersion: "9.9.9" }), "chartVersion", /holds version 1.4.0/);
  });

  it("refuses a chart path that is not a chart", () => {
    assertProblem(validRawValues({ chart: "deploy" }), "chart", /no Chart.yaml/);
  });

  it("requires the tier's values file for a remote chart, and refuses missing files", () => {
    assertProblem(
      validRawValues({ chart: "oci://r/charts/a", chartVersion: "1.4.2" }),
      "tierValuesFile",
      /required with a remote chart/,
    );
    assertProblem(validRawValues({ siteValuesFile: "deploy/nope.yaml" }), "siteValuesFile", /does not exist/);
  });

  it("refuses malformed names, URLs, numbers and booleans", () => {
    assertProblem(validRawValues({ namespace: "Alexandria_Prod" }), "namespace", /namespace name/);
    assertProblem(validRawValues({ releaseName: "x".repeat(60) }), "releaseName", /at most 53/);
    assertProblem(validRawValues({ baseUrl: "alexandria.example.com" }), "baseUrl", /not a URL/);
    assertProblem(validRawValues({ baseUrl: "ftp://a.example" }), "baseUrl", /http/);
    assertProblem(validRawValues({ baseUrl: "https://u:p@a.example" }), "baseUrl", /credentials/);
    assertProblem(validRawValues({ helmTimeoutSeconds: "10m" }), "helmTimeoutSeconds", /whole number/);
    assertProblem(validRawValues({ snapshotJobs: "0" }), "snapshotJobs", /whole number from 1/);
    assertProblem(validRawValues({ protected: "yes" }), "protected", /true or false/);
    assertProblem(validRawValues({ dsnSecret: "alexandria-db" }), "dsnSecret", /<secret-name>\/<key>/);
  });

  it("refuses parallel jobs with the custom format", () => {
    assertProblem(validRawValues({ snapshotFormat: "custom", snapshotJobs: "4" }), "snapshotJobs", /directory/);
  });

  it("needs a DSN source, and accepts a secret DSN instead of the Kubernetes Secret", () => {
    assertProblem(validRawValues({ dsnSecret: undefined }), "dsnSecret", /pgDsn/);
    const { config } = validate(validRawValues({ dsnSecret: undefined }), {
      pgDsn: pulumi.secret("postgres://u:p@h/db"),
    });
    assert.ok(config.pgDsn !== undefined);
    assert.strictEqual(config.dsnSecret, undefined);
  });

  it("requires a registry user with a registry password, and refuses insecure registries in protected stacks", () => {
    assertProblem(validRawValues(), "registryUsername", /registryPassword/, { registryPassword: pulumi.secret("pw") });
    assertProblem(validRawValues({ protected: "true", registryInsecure: "true" }), "registryInsecure", /TLS/);
  });

  it("refuses image repositories that carry a tag, and needs a repository for every component", () => {
    assertProblem(
      validRawValues({ imageRepositories: { api: "r.example/a/api:v1" } }),
      "imageRepositories.api",
      /tag or digest/,
    );
    assertProblem(
      validRawValues({
        chart: "oci://r/c/a",
        chartVersion: "1.0.0",
        tierValuesFile: "deploy/alexandria-ee/values-enterprise.yaml",
        baseValuesFile: "deploy/prod/site-values.yaml",
      }),
      "imageRepositories.api",
      /is unknown/,
    );
  });

  it("reports JSON that does not parse with the rest", () => {
    const problems = problemsOf(validRawValues(), { parseErrors: ["release-runbook:imageTags: not valid JSON"] });
    assert.deepStrictEqual(problems, ["release-runbook:imageTags: not valid JSON"]);
  });

  it("saves em-runtime's two Secrets with each snapshot by default, and none for Alexandria EE unless listed", () => {
    const em = validate(emRuntimeRawValues()).config;
    assert.deepStrictEqual(em.snapshot.secrets, ["em-runtime-secrets", "infisical-bootstrap-secret"]);
    const emListed = validate(emRuntimeRawValues({ backupSecrets: ["em-runtime-secrets"] })).config;
    assert.deepStrictEqual(emListed.snapshot.secrets, ["em-runtime-secrets"]);
    assert.deepStrictEqual(validate(validRawValues()).config.snapshot.secrets, []);
    assert.deepStrictEqual(
      validate(validRawValues({ backupSecrets: ["alexandria-license"] })).config.snapshot.secrets,
      ["alexandria-license"],
    );
  });

  it("rejects backupSecrets that is not a list of distinct Secret names", () => {
    assertProblem(
      validRawValues({ backupSecrets: "em-runtime-secrets" }),
      "backupSecrets",
      /must be a list of strings.*backupSecrets\[0\]/,
    );
    assertProblem(
      validRawValues({ backupSecrets: ["Bad_Name"] }),
      "backupSecrets",
      /'Bad_Name' is not a Kubernetes Secret name/,
    );
    assertProblem(validRawValues({ backupSecrets: ["a", "a"] }), "backupSecrets", /names a Secret twice/);
  });

  it("warns when the acknowledgement names another target", () => {
    const { warnings } = validate(validRawValues({ acknowledgeUpgrade: "v1.3.0" }));
    assert.ok(
      warnings.some((w) => /acknowledgeUpgrade/.test(w) && /v1.4.0/.test(w)),
      warnings.join("\n"),
    );
  });

  it("promoteFrom names the lower stack; without it there is no gate", () => {
    assert.deepStrictEqual(validate(validRawValues()).config.promotion, { from: undefined, override: undefined });
    const { config } = validate(validRawValues({ promoteFrom: "organization/release-runbook/staging" }));
    assert.strictEqual(config.promotion.from, "organization/release-runbook/staging");
    assertProblem(validRawValues({ promoteFrom: "unit" }), "promoteFrom", /is this stack/);
    assertProblem(validRawValues({ promoteFrom: "stag ing" }), "promoteFrom", /not a stack name/);
  });

  it("promotionOverride and promotionOverrideReason come together and name the exact target", () => {
    const { config, warnings } = validate(
      validRawValues({ promoteFrom: "staging", promotionOverride: "v1.4.0", promotionOverrideReason: "CVE hotfix" }),
    );
    assert.deepStrictEqual(config.promotion.override, { target: "v1.4.0", reason: "CVE hotfix" });
    assert.deepStrictEqual(warnings, []);
    // The chart version names the target too (the fixture chart is 1.4.0 as well, so name it through a tag change).
    const byChart = validate(
      validRawValues({
        promoteFrom: "staging",
        imageTags: { api: "v1.4.1", orchestrator: "v1.4.1", dashboard: "v1.4.1" },
        promotionOverride: "1.4.0",
        promotionOverrideReason: "chart fix",
      }),
    );
    assert.strictEqual(byChart.config.promotion.override?.target, "1.4.0");
    assertProblem(
      validRawValues({ promoteFrom: "staging", promotionOverride: "v1.4.0" }),
      "promotionOverrideReason",
      /is required with promotionOverride/,
    );
    assertProblem(
      validRawValues({ promoteFrom: "staging", promotionOverrideReason: "hotfix" }),
      "promotionOverride",
      /is required with promotionOverrideReason/,
    );
    assertProblem(
      validRawValues({ promoteFrom: "staging", promotionOverride: "v1.3.9", promotionOverrideReason: "hotfix" }),
      "promotionOverride",
      /names v1\.3\.9, but the target is api v1\.4\.0, chart 1\.4\.0/,
    );
    const alone = validate(validRawValues({ promotionOverride: "v1.4.0", promotionOverrideReason: "hotfix" }));
    assert.ok(alone.warnings.some((w) => /promotionOverride: has no effect without promoteFrom/.test(w)));
  });

  it("every committed Pulumi.<stack>.yaml is valid as the engine hands it over (with Pulumi.yaml's defaults)", () => {
    const stacks = committedStacks();
    assert.deepStrictEqual(stacks, ["dev", "em-dev", "em-local", "em-prod", "em-staging", "local", "prod", "staging"]);
    for (const stack of stacks) {
      // The operator sets the chart registry's password with `pulumi config set --secret`; it is never committed.
      const values = engineValues(stack);
      // Secrets committed encrypted (`secure:`: only Pulumi.em-local.yaml's test-only sandbox credentials) reach
      // the program as secrets, never as values.
      const committedSecrets = Object.keys(values).filter(
        (k) => typeof values[k] === "object" && values[k] !== null && "secure" in (values[k] as object),
      );
      for (const k of committedSecrets) delete values[k];
      const extra = {
        ...(!values.chartRegistryUsername ? {} : { chartRegistryPassword: pulumi.secret("set with --secret") }),
        ...Object.fromEntries(committedSecrets.map((k) => [k, pulumi.secret("committed encrypted")])),
      };
      try {
        validateConfig(rawConfig(values, extra), { ...ctx, stack });
      } catch (err) {
        assert.fail(`Pulumi.${stack}.yaml: ${(err as Error).message}`);
      }
    }
  });

  for (const stack of ["dev", "staging", "prod"]) {
    it(`the committed Pulumi.${stack}.yaml is valid`, () => {
      const { config } = validateConfig(rawConfig(stackFileValues(stack)), { ...ctx, stack });
      assert.strictEqual(config.tier, stack === "dev" ? "starter" : "enterprise");
      assert.strictEqual(config.promotion.from, { dev: undefined, staging: "dev", prod: "staging" }[stack]);
      assert.strictEqual(config.gate.protected, stack === "prod");
      assert.strictEqual(config.chart.kind, "repository");
      assert.strictEqual(config.chart.version, "1.4.2");
      assert.ok(config.valuesFiles.some((f) => f.endsWith(`values-${config.tier}.yaml`)));
    });
  }

  for (const stack of ["em-dev", "em-staging", "em-prod"]) {
    it(`the committed Pulumi.${stack}.yaml runs em-runtime as its guide: OCI chart, pinned version, one values file`, () => {
      const values = engineValues(stack);
      // Without the chart registry's password, which is never committed, the stack says how to set it.
      assert.throws(
        () => validateConfig(rawConfig(values), { ...ctx, stack }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.problems.length === 1 &&
          /chartRegistryPassword: .*pulumi config set --secret chartRegistryPassword/.test(err.problems[0]),
      );
      const { config } = validateConfig(rawConfig(values, { chartRegistryPassword: pulumi.secret("pat") }), {
        ...ctx,
        stack,
      });
      assert.strictEqual(config.application, "em-runtime");
      assert.strictEqual(config.tier, undefined);
      assert.deepStrictEqual(config.imageTags, {});
      assert.deepStrictEqual(config.chart, {
        kind: "repository",
        chart: "oci://ghcr.io/emergenceai/charts/em-runtime",
        repository: undefined,
        version: "4.8.6",
      });
      assert.deepStrictEqual(config.valuesFiles, [`deploy/${stack}/values.yaml`]);
      assert.strictEqual(config.snapshot.scope, "server");
      assert.strictEqual(config.verification.healthPath, "/api/governance/health");
      assert.strictEqual(config.gate.protected, stack === "em-prod");
      assert.strictEqual(
        config.promotion.from,
        { "em-dev": undefined, "em-staging": "em-dev", "em-prod": "em-staging" }[stack],
      );
      const file = fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8");
      assert.match(file, /pulumi config set --secret chartRegistryPassword/);
      assert.ok(!/secure:|ghp_|password:/i.test(file.replace(/^#.*$/gm, "")), `a secret in Pulumi.${stack}.yaml`);
    });
  }

  it("the committed Pulumi.local.yaml (the local sandbox) is valid", () => {
    const { config } = validateConfig(rawConfig(stackFileValues("local")), { ...ctx, stack: "local" });
    assert.strictEqual(config.chart.kind, "local");
    assert.strictEqual(config.tier, "starter");
    assert.strictEqual(config.baseUrl, "http://127.0.0.1:18080");
    assert.strictEqual(config.helm.timeoutSeconds, 120);
  });
});
