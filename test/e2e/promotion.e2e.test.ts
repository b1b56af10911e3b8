import * as assert from "assert";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  createStack,
  deployedImages,
  firstInstallStack,
  image,
  makeProjectCopy,
  removeProjectCopy,
  setFixtureMode,
  setTags,
  up,
} from "./support/project";

/**
 * Two stacks of one project in one file backend: a staging-like stack verifies v1.4.1, and a prod-like stack
 * with `promoteFrom` reads its `verifiedTargets` through a StackReference. The prod-like stack adopts the
 * release the staging-like one installed (the sandbox has one release), so its ups upgrade that release.
 */
describe("e2e: a stack runs only what the stack it promotes from verified", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let staging: Stack;
  let prod: Stack;

  before(async () => {
    ({ project, stack: staging } = await firstInstallStack("e2e-staging", "v1.4.1"));
  });

  it("the staging-like stack's up verifies v1.4.1 and exports it as verifiedTargets", async () => {
    const run = await up(staging);
    assert.ifError(run.error);
    const outputs = await staging.outputs();
    const verified = outputs.verifiedTargets.value as Record<string, any>;
    assert.strictEqual(verified.stack, "e2e-staging");
    assert.strictEqual(verified.chartVersion, "1.4.0");
    assert.deepStrictEqual(verified.imageTags, { api: "v1.4.1", orchestrator: "v1.4.1", dashboard: "v1.4.1" });
    assert.strictEqual(verified.releaseRevision, 1);
    assert.match(verified.verifiedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    assert.strictEqual(outputs.promotion.value, "not gated: no promoteFrom");
    // From now on the application has its admin: /auth/setup must no longer answer 200.
    await setFixtureMode({ adminExists: true });
  });

  it("the prod-like stack refuses v1.5.0 at preview, naming the target, the lower stack and what it verified", async () => {
    prod = await createStack(project, "e2e-prod", {
      tags: "v1.5.0",
      adopt: true,
      extra: { promoteFrom: "e2e-staging" },
    });
    await assert.rejects(prod.preview({ color: "never" }), (err: Error) => {
      assert.match(err.message, /promoteFrom: stack e2e-prod promotes from e2e-staging/);
      assert.match(err.message, /the target chart 1\.4\.0, api=v1\.5\.0, dashboard=v1\.5\.0, orchestrator=v1\.5\.0/);
      assert.match(err.message, /e2e-staging last verified chart 1\.4\.0, api=v1\.4\.1, dashboard=v1\.4\.1/);
      assert.match(err.message, /revision 1/);
      return true;
    });
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
  });

  it("accepts v1.4.1, the target staging verified, and records it", async () => {
    await setTags(prod, "v1.4.1");
    await prod.preview({ color: "never" });
    const run = await up(prod);
    assert.ifError(run.error);
    const outputs = await prod.outputs();
    assert.match(outputs.promotion.value, /^verified by e2e-staging at \S+, revision 1$/);
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
  });

  it("accepts v1.5.0 with the override naming it, and keeps the reason in the outputs and the history", async () => {
    await setTags(prod, "v1.5.0");
    await prod.setAllConfig({
      "release-runbook:promotionOverride": { value: "v1.5.0" },
      "release-runbook:promotionOverrideReason": { value: "e2e hotfix INC-1" },
    });
    const preview = await prod.preview({ color: "never" });
    assert.match(preview.stdout, /promotionOverride lets it through: e2e hotfix INC-1/);
    const run = await up(prod);
    assert.ifError(run.error);
    const outputs = await prod.outputs();
    assert.strictEqual(outputs.promotion.value, "overridden: e2e hotfix INC-1");
    assert.strictEqual(outputs.verifiedTargets.value.imageTags.api, "v1.5.0");
    assert.strictEqual(deployedImages().api, image("api", "v1.5.0"));
    // The stack's history keeps the reason with the update that used it.
    const [latest] = await prod.history(1);
    assert.strictEqual(latest.result, "succeeded");
    assert.strictEqual(latest.config?.["release-runbook:promotionOverrideReason"]?.value, "e2e hotfix INC-1");
  });

  after(() => removeProjectCopy(project));
});
