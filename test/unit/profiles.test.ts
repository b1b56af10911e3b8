import * as assert from "assert";
import { CONFIG_KEYS } from "../../src/lib/config/keys";
import {
  ALEXANDRIA_EE,
  APPLICATIONS,
  EM_RUNTIME,
  logSourceName,
  profileFor,
  PROFILES,
  targetVersion,
} from "../../src/lib/profiles";

describe("application profiles", () => {
  it("one profile per application, each naming itself", () => {
    assert.deepStrictEqual(Object.keys(PROFILES).sort(), [...APPLICATIONS].sort());
    for (const application of APPLICATIONS) assert.strictEqual(profileFor(application).application, application);
  });

  it("Alexandria EE: tiers, api/orchestrator/dashboard pinned, its endpoints, the api container, the api tag, one database", () => {
    assert.strictEqual(ALEXANDRIA_EE.tier, "required");
    assert.deepStrictEqual(ALEXANDRIA_EE.requiredImages, ["api", "orchestrator", "dashboard"]);
    assert.deepStrictEqual(ALEXANDRIA_EE.health, { kind: "alexandria-endpoints" });
    assert.deepStrictEqual(ALEXANDRIA_EE.logSources, [{ kind: "container", container: "api" }]);
    assert.deepStrictEqual(ALEXANDRIA_EE.backupSecrets, []);
    assert.strictEqual(ALEXANDRIA_EE.versionSource, "api-tag");
    assert.strictEqual(ALEXANDRIA_EE.snapshotScope, "database");
    assert.deepStrictEqual(ALEXANDRIA_EE.refusedKeys, {});
  });

  it("em-runtime as its guide: no tier, optional overrides, /api/governance/health, three Deployments, its Secrets, the chart version, the server", () => {
    assert.strictEqual(EM_RUNTIME.tier, "none");
    assert.deepStrictEqual(EM_RUNTIME.requiredImages, []);
    assert.deepStrictEqual(EM_RUNTIME.pinnableImages, ["governance", "assets", "utils"]);
    assert.strictEqual(EM_RUNTIME.otherImagesPinnable, false);
    assert.deepStrictEqual(EM_RUNTIME.health, { kind: "path", path: "/api/governance/health" });
    assert.deepStrictEqual(
      EM_RUNTIME.logSources.map((s) => logSourceName("em-runtime", s)),
      ["em-runtime-governance", "em-runtime-assets", "em-runtime-utils"],
    );
    assert.deepStrictEqual(EM_RUNTIME.backupSecrets, ["em-runtime-secrets", "infisical-bootstrap-secret"]);
    assert.strictEqual(EM_RUNTIME.versionSource, "chart-version");
    assert.strictEqual(EM_RUNTIME.snapshotScope, "server");
    assert.deepStrictEqual(EM_RUNTIME.baseUrlSecret, { name: "em-runtime-secrets", key: "base-url" });
    assert.strictEqual(EM_RUNTIME.pods.infrastructureSelector, "app.kubernetes.io/component=database");
    assert.deepStrictEqual(Object.keys(EM_RUNTIME.refusedKeys).sort(), [
      "licenseWarnDays",
      "maxSeats",
      "tier",
      "tierValuesFile",
    ]);
  });

  it("refuses only keys the schema declares, each with a reason", () => {
    for (const profile of Object.values(PROFILES)) {
      for (const [key, why] of Object.entries(profile.refusedKeys)) {
        assert.ok((CONFIG_KEYS as string[]).includes(key), `${profile.application} refuses an unknown key ${key}`);
        assert.ok(why !== undefined && why.length > 20, `${profile.application}: ${key} has no reason`);
      }
    }
  });

  it("reads the gate's version as the profile says", () => {
    const target = { chartVersion: "4.8.6", imageTags: { api: "v1.5.0" } };
    assert.deepStrictEqual(targetVersion("api-tag", target), { label: "api", version: "v1.5.0" });
    assert.deepStrictEqual(targetVersion("chart-version", target), { label: "chart", version: "4.8.6" });
    assert.deepStrictEqual(targetVersion("api-tag", { chartVersion: "4.8.6", imageTags: {} }), {
      label: "api",
      version: undefined,
    });
  });
});
