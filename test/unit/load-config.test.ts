import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../support/pulumiMocks";
import { PROJECT_DIR } from "../support/stackConfig";
import { ConfigError, loadConfig } from "../../components/config";

installMocks();

const base = {
  "release-runbook:namespace": "alexandria",
  "release-runbook:chart": "test/fixtures/charts/alexandria-ee",
  "release-runbook:tier": "starter",
  "release-runbook:imageTags": JSON.stringify({ api: "v1.4.0", orchestrator: "v1.4.0", dashboard: "v1.4.0" }),
  "release-runbook:baseUrl": "https://alexandria.example.com",
  // What Pulumi.yaml's defaults inject when the stack does not set them.
  "release-runbook:dsnSecret": "",
  "release-runbook:pgDsn": "",
  "release-runbook:registryPassword": "",
  "release-runbook:maxSeats": "0",
  "release-runbook:siteValues": "{}",
};

describe("loadConfig (the stack's config as the engine hands it over)", () => {
  it("treats Pulumi.yaml's empty defaults as unset: no DSN source is a problem", () => {
    pulumi.runtime.setAllConfig(base);
    assert.throws(
      () => loadConfig(PROJECT_DIR),
      (err: unknown) => err instanceof ConfigError && /dsnSecret: or pgDsn is required/.test(err.message),
    );
  });

  it("accepts a DSN set as a secret, and maxSeats 0 means the license's own count", () => {
    pulumi.runtime.setAllConfig({ ...base, "release-runbook:pgDsn": "postgres://u:p@h/db" }, ["release-runbook:pgDsn"]);
    const config = loadConfig(PROJECT_DIR);
    assert.ok(config.pgDsn !== undefined);
    assert.strictEqual(config.verification.maxSeats, undefined);
    assert.strictEqual(config.registryPassword, undefined);
  });

  it("refuses a DSN or registry password stored in plain text, without printing it", () => {
    pulumi.runtime.setAllConfig({
      ...base,
      "release-runbook:pgDsn": "postgres://u:hunter2@h/db",
      "release-runbook:registryPassword": "s3cr3t-token",
    });
    assert.throws(
      () => loadConfig(PROJECT_DIR),
      (err: unknown) =>
        err instanceof ConfigError &&
        /pgDsn: is stored in plain text/.test(err.message) &&
        /registryPassword: is stored in plain text/.test(err.message) &&
        !/hunter2|s3cr3t-token/.test(err.message),
    );
  });

  it("refuses a chartRegistryPassword stored in plain text, and hands a secret one over as a secret", async () => {
    const em = {
      "release-runbook:application": "em-runtime",
      "release-runbook:namespace": "em",
      "release-runbook:chart": "oci://ghcr.io/emergenceai/charts/em-runtime",
      "release-runbook:chartVersion": "4.8.6",
      "release-runbook:baseValuesFile": "deploy/em-dev/values.yaml",
      "release-runbook:baseUrl": "https://em-dev.acme.example",
      "release-runbook:dsnSecret": "em-runtime-db/dsn",
      "release-runbook:chartRegistryUsername": "acme-bot",
      // What Pulumi.yaml's defaults inject when an em-runtime stack does not set them.
      "release-runbook:tier": "",
      "release-runbook:imageTags": "{}",
      "release-runbook:licenseWarnDays": "30",
      "release-runbook:maxSeats": "0",
    };
    pulumi.runtime.setAllConfig({ ...em, "release-runbook:chartRegistryPassword": "ghp_plaintext" });
    assert.throws(
      () => loadConfig(PROJECT_DIR),
      (err: unknown) =>
        err instanceof ConfigError &&
        /chartRegistryPassword: is stored in plain text/.test(err.message) &&
        !/ghp_plaintext/.test(err.message),
    );
    pulumi.runtime.setAllConfig({ ...em, "release-runbook:chartRegistryPassword": "ghp_secret" }, [
      "release-runbook:chartRegistryPassword",
    ]);
    const config = loadConfig(PROJECT_DIR);
    assert.strictEqual(config.chartRegistry?.username, "acme-bot");
    assert.ok(config.chartRegistry !== undefined);
    assert.strictEqual(await pulumi.isSecret(config.chartRegistry.password), true);
  });
});
