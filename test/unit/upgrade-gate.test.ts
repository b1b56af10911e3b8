import * as assert from "assert";
import { evaluateUpgradeGate } from "../../src/lib/preflight/upgrade-gate";

const running = (tag: string) => ({ state: "running" as const, tag });

describe("minor-version gate on the chart version (em-runtime's profile)", () => {
  it("crossing a minor chart version in a protected stack needs the exact chart version acknowledged", () => {
    const refused = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      versionOf: "chart",
      targetTag: "4.9.0",
      running: running("4.8.6"),
    });
    assert.strictEqual(refused.ok, false);
    assert.match(refused.detail, /chart 4\.8\.6 → 4\.9\.0 crosses a minor version/);
    assert.match(refused.detail, /acknowledgeUpgrade.*4\.9\.0/);
    const acknowledged = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      acknowledge: "4.9.0",
      versionOf: "chart",
      targetTag: "4.9.0",
      running: running("4.8.6"),
    });
    assert.strictEqual(acknowledged.ok, true);
    assert.match(acknowledged.detail, /acknowledged for 4\.9\.0/);
  });

  it("a patch chart bump passes, and a first install needs nothing", () => {
    const patch = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      versionOf: "chart",
      targetTag: "4.8.7",
      running: running("4.8.6"),
    });
    assert.strictEqual(patch.ok, true);
    assert.match(patch.detail, /chart 4\.8\.6 → 4\.8\.7 stays within one minor version/);
    const first = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      versionOf: "chart",
      targetTag: "4.8.6",
      running: { state: "first-install" },
    });
    assert.match(first.detail, /first install of chart 4\.8\.6/);
  });

  it("applies without any api component: the api tag is not what is compared", () => {
    const result = evaluateUpgradeGate({
      protectedStack: true,
      destructive: true,
      versionOf: "chart",
      targetTag: "4.8.7",
      running: running("4.8.6"),
    });
    assert.strictEqual(result.ok, false);
    assert.strictEqual(result.skipped, undefined);
    assert.match(result.detail, /the release to chart 4\.8\.7 is flagged destructive/);
  });

  it("Alexandria's gate on api tags reads as before", () => {
    const result = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      targetTag: "v1.5.0",
      running: running("v1.4.2"),
    });
    assert.match(result.detail, /^api v1\.4\.2 → v1\.5\.0 crosses a minor version/);
    const none = evaluateUpgradeGate({ protectedStack: true, destructive: false, running: running("v1.4.2") });
    assert.match(none.detail, /no api image given/);
  });
});
