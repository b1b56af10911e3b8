import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../src/lib/config/schema";
import { installMocks, promiseOf, RecordedResource, STACK_OUTPUTS } from "../support/pulumiMocks";

const recorded: RecordedResource[] = installMocks();

const BASE_CONFIG = {
  "release-runbook:namespace": "alexandria",
  "release-runbook:chart": "test/fixtures/charts/alexandria-ee",
  "release-runbook:tier": "enterprise",
  "release-runbook:baseUrl": "https://alexandria.example.com",
  "release-runbook:dsnSecret": "alexandria-db/dsn",
};
const tags = (tag: string) => JSON.stringify({ api: tag, orchestrator: tag, dashboard: tag });

describe("the program (index.ts)", () => {
  it("reads the stack config, builds the pipeline and exports the outputs operators read", async () => {
    pulumi.runtime.setAllConfig({
      "release-runbook:namespace": "alexandria",
      "release-runbook:chart": "test/fixtures/charts/alexandria-ee",
      "release-runbook:tier": "professional",
      "release-runbook:imageTags": JSON.stringify({ api: "v1.4.0", orchestrator: "v1.4.1", dashboard: "v1.4.0" }),
      "release-runbook:baseUrl": "https://alexandria.example.com",
      "release-runbook:dsnSecret": "alexandria-db/dsn",
    });
    recorded.length = 0;
    const program = await (await import("../../index")).default();
    assert.strictEqual(await promiseOf(program.releaseRevision), 4);
    assert.strictEqual(await promiseOf(program.releaseStatus), "deployed");
    assert.strictEqual(await promiseOf(program.chartVersion), "1.4.0");
    assert.strictEqual(await promiseOf(program.snapshotPath), "/snap/x");
    assert.strictEqual(await promiseOf(program.verification), "ready=ok license=warn");
    assert.deepStrictEqual(program.imageTags, { api: "v1.4.0", orchestrator: "v1.4.1", dashboard: "v1.4.0" });
    assert.strictEqual(program.targets.tier, "professional");
    const release = recorded.find((r) => r.type === "kubernetes:helm.sh/v3:Release");
    assert.ok(release, "the program registered no helm Release");
    assert.strictEqual(release.inputs.values.image.orchestrator.tag, "v1.4.1");
  });
});

describe("the program's promotion gate (promoteFrom)", () => {
  before(() => {
    // What staging's last up exported: the fixture chart 1.4.0 with v1.4.0 everywhere, every check passed.
    STACK_OUTPUTS.staging = {
      verifiedTargets: {
        stack: "staging",
        chartVersion: "1.4.0",
        imageTags: { api: "v1.4.0", orchestrator: "v1.4.0", dashboard: "v1.4.0" },
        releaseRevision: 3,
        verifiedAt: "2026-11-28T09:30:00.000Z",
        tier: "enterprise",
      },
    };
  });

  // setAllConfig merges into one process-wide store: leave the gate's keys unset (Pulumi.yaml's "") for later files.
  after(() => {
    pulumi.runtime.setAllConfig({
      "release-runbook:promoteFrom": "",
      "release-runbook:promotionOverride": "",
      "release-runbook:promotionOverrideReason": "",
    });
  });

  async function run(config: Record<string, string>) {
    pulumi.runtime.setAllConfig({
      ...BASE_CONFIG,
      "release-runbook:promoteFrom": "staging",
      "release-runbook:promotionOverride": "",
      "release-runbook:promotionOverrideReason": "",
      ...config,
    });
    recorded.length = 0;
    return (await import("../../index")).default();
  }

  it("refuses a target staging has not verified, before any pipeline resource is registered", async () => {
    await assert.rejects(run({ "release-runbook:imageTags": tags("v1.4.1") }), (err: Error) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
      assert.match(err.message, /release-runbook:promoteFrom: stack unit promotes from staging/);
      assert.match(err.message, /the target chart 1\.4\.0, api=v1\.4\.1, dashboard=v1\.4\.1, orchestrator=v1\.4\.1/);
      assert.match(err.message, /staging last verified chart 1\.4\.0, api=v1\.4\.0/);
      assert.match(err.message, /at 2026-11-28T09:30:00\.000Z, revision 3/);
      return true;
    });
    const ref = recorded.find((r) => r.type === "pulumi:pulumi:StackReference");
    assert.strictEqual(ref?.inputs.name, "staging");
    assert.deepStrictEqual(
      recorded.filter((r) => r.type !== "pulumi:pulumi:StackReference").map((r) => r.type),
      [],
      "the pipeline registered resources although the target was refused",
    );
  });

  it("runs the target staging verified, records how it got through and exports what this up verified", async () => {
    const program = await run({ "release-runbook:imageTags": tags("v1.4.0") });
    assert.strictEqual(program.promotion, "verified by staging at 2026-11-28T09:30:00.000Z, revision 3");
    assert.deepStrictEqual(await promiseOf(program.verifiedTargets), {
      stack: "unit",
      chartVersion: "1.4.0",
      imageTags: { api: "v1.4.0", orchestrator: "v1.4.0", dashboard: "v1.4.0" },
      releaseRevision: 4,
      verifiedAt: "2026-11-29T14:02:11.000Z",
      tier: "enterprise",
    });
    assert.ok(recorded.some((r) => r.type === "kubernetes:helm.sh/v3:Release"));
  });

  it("lets an unverified target through with the override naming it, and keeps the reason in the outputs", async () => {
    const program = await run({
      "release-runbook:imageTags": tags("v1.4.1"),
      "release-runbook:promotionOverride": "v1.4.1",
      "release-runbook:promotionOverrideReason": "CVE-2026-1234 hotfix, INC-812",
    });
    assert.strictEqual(program.promotion, "overridden: CVE-2026-1234 hotfix, INC-812");
    assert.strictEqual(await promiseOf(program.releaseRevision), 4);
    assert.ok(recorded.some((r) => r.type === "kubernetes:helm.sh/v3:Release"));
  });

  it("without promoteFrom reads no other stack", async () => {
    const program = await run({ "release-runbook:imageTags": tags("v1.4.1"), "release-runbook:promoteFrom": "" });
    assert.strictEqual(program.promotion, "not gated: no promoteFrom");
    assert.strictEqual(await promiseOf(program.releaseRevision), 4);
    assert.ok(!recorded.some((r) => r.type === "pulumi:pulumi:StackReference"));
  });
});
