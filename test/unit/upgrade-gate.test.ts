import * as assert from "assert";
import { fail } from "../../src/lib/check";
import { podsOfAReturn } from "../../src/lib/preflight/preflight";
import { ranBefore } from "../../src/lib/preflight/ran-before";
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

describe("minor-version gate: a return to a version this stack ran is not an upgrade", () => {
  // v1.4.0 served when the upgrade to v1.5.0 began: the pipeline's snapshot recorded it.
  const recorded = [
    { snapshot: "/s/a-1", createdAt: "2026-11-01T00:00:00Z", schemaVersion: "1", fromApiTag: "v1.4.0" },
    { snapshot: "/s/a-2", createdAt: "2026-11-02T00:00:00Z", schemaVersion: "2", fromApiTag: "v1.5.0" },
  ];
  const running = { state: "running", tag: "v1.5.0" } as const;
  const gate = (targetTag: string, extra: Record<string, unknown> = {}) =>
    evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      targetTag,
      running,
      ...(ranBefore(recorded, targetTag) === undefined ? {} : { ranBefore: ranBefore(recorded, targetTag) }),
      ...extra,
    });

  it("passes v1.5.0 → v1.4.0 without an acknowledgement, naming the snapshot that proves v1.4.0 ran", () => {
    const c = gate("v1.4.0");
    assert.strictEqual(c.ok, true, c.detail);
    assert.match(c.detail, /back to a version this stack already ran \(snapshot \/s\/a-1/);
  });

  it("still refuses a genuinely new minor version (v1.5.0 → v1.6.0) without the acknowledgement", () => {
    const c = gate("v1.6.0");
    assert.strictEqual(c.ok, false);
    assert.match(c.detail, /crosses a minor version in a protected stack/);
    assert.strictEqual(gate("v1.6.0", { acknowledge: "v1.6.0" }).ok, true);
  });

  it("evidence for another tag does not carry over, and a destructive flag still needs the acknowledgement", () => {
    const other = evaluateUpgradeGate({
      protectedStack: true,
      destructive: false,
      targetTag: "v1.6.0",
      running,
      ranBefore: { tag: "v1.4.0", snapshot: "/s/a-1", createdAt: "2026-11-01T00:00:00Z" },
    });
    assert.strictEqual(other.ok, false);
    const destructive = gate("v1.4.0", { destructive: true });
    assert.strictEqual(destructive.ok, false);
    assert.match(destructive.detail, /flagged destructive/);
  });

  it("the crash-looping or scaled-down pods of the release being undone do not refuse a return; they do an upgrade", () => {
    const crashLooping = fail("pods-healthy", "1 of 1 pod(s) unhealthy: api-x CrashLoopBackOff");
    const back = podsOfAReturn(crashLooping, ranBefore(recorded, "v1.4.0"));
    assert.strictEqual(back.ok, true);
    assert.match(String(back.warning), /CrashLoopBackOff.*going back to api v1\.4\.0/);
    assert.strictEqual(podsOfAReturn(crashLooping, ranBefore(recorded, "v1.6.0")).ok, false);
  });
});
