import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, promiseOf, RecordedResource } from "../support/pulumiMocks";

const recorded: RecordedResource[] = installMocks();

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
