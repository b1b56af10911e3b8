import * as assert from "assert";
import {
  decidePromotion,
  describeTarget,
  PromotionInput,
  PromotionTarget,
  verifiedTarget,
} from "../../src/lib/release/promotion";

const tags = (tag: string) => ({ api: tag, orchestrator: tag, dashboard: tag });
const V141: PromotionTarget = { chartVersion: "1.4.1", imageTags: tags("v1.4.1") };
const V150: PromotionTarget = { chartVersion: "1.5.0", imageTags: tags("v1.5.0") };
const STAGING_VERIFIED = {
  stack: "staging",
  chartVersion: "1.4.1",
  imageTags: tags("v1.4.1"),
  releaseRevision: 7,
  verifiedAt: "2026-11-29T14:02:11.000Z",
};

function decide(target: PromotionTarget, extra: Partial<PromotionInput> = {}) {
  return decidePromotion({ target, stack: "prod", lowerStack: "staging", lowerVerified: STAGING_VERIFIED, ...extra });
}

describe("the promotion gate", () => {
  it("accepts the target the lower stack verified, exactly, and records when and at which revision", () => {
    assert.deepStrictEqual(decide(V141), {
      allowed: true,
      how: "verified",
      record: "verified by staging at 2026-11-29T14:02:11.000Z, revision 7",
    });
  });

  it("refuses another target, naming it, the lower stack and what that stack last verified", () => {
    const decision = decide(V150);
    assert.strictEqual(decision.allowed, false);
    assert.ok(!decision.allowed);
    assert.match(decision.message, /the target chart 1\.5\.0, api=v1\.5\.0, dashboard=v1\.5\.0, orchestrator=v1\.5\.0/);
    assert.match(decision.message, /has not been verified by staging/);
    assert.match(
      decision.message,
      /staging last verified chart 1\.4\.1, api=v1\.4\.1, dashboard=v1\.4\.1, orchestrator=v1\.4\.1 \(verified by staging at 2026-11-29T14:02:11\.000Z, revision 7\)/,
    );
    assert.match(decision.message, /set promotionOverride to v1\.5\.0 or 1\.5\.0 and promotionOverrideReason/);
  });

  it("refuses when one tag differs, or the chart version does", () => {
    assert.strictEqual(
      decide({ chartVersion: "1.4.1", imageTags: { ...tags("v1.4.1"), dashboard: "v1.4.2" } }).allowed,
      false,
    );
    assert.strictEqual(decide({ chartVersion: "1.4.2", imageTags: tags("v1.4.1") }).allowed, false);
    assert.strictEqual(
      decide({ chartVersion: "1.4.1", imageTags: { api: "v1.4.1", orchestrator: "v1.4.1" } }).allowed,
      false,
    );
  });

  it("refuses everything while the lower stack has verified nothing (no output, or a failed verification)", () => {
    for (const lowerVerified of [undefined, null, "garbage"]) {
      const decision = decide(V141, { lowerVerified });
      assert.ok(!decision.allowed);
      assert.match(decision.message, /staging has verified nothing yet/);
    }
  });

  it("lets an override with its reason through when it names the target's api tag or chart version", () => {
    for (const name of ["v1.5.0", "1.5.0"]) {
      assert.deepStrictEqual(decide(V150, { override: { target: name, reason: "CVE-2026-1234 hotfix" } }), {
        allowed: true,
        how: "overridden",
        record: "overridden: CVE-2026-1234 hotfix",
      });
    }
  });

  it("refuses an override that names another target", () => {
    const decision = decide(V150, { override: { target: "v1.4.9", reason: "hotfix" } });
    assert.ok(!decision.allowed);
    assert.match(decision.message, /promotionOverride names v1\.4\.9, not this target \(v1\.5\.0 or 1\.5\.0\)/);
  });

  it("an up exports its target only when every check passed", () => {
    const passed = [{ ok: true }, { ok: true }];
    assert.deepStrictEqual(verifiedTarget("staging", V141, passed, 7, "2026-11-29T14:02:11.000Z"), STAGING_VERIFIED);
    assert.strictEqual(verifiedTarget("staging", V141, [{ ok: true }, { ok: false }], 7), null);
    assert.strictEqual(verifiedTarget("staging", V141, [], 7), null);
  });

  it("describes a target with its components in a stable order", () => {
    assert.strictEqual(
      describeTarget({ chartVersion: "1.4.1", imageTags: { orchestrator: "b", api: "a" } }),
      "chart 1.4.1, api=a, orchestrator=b",
    );
  });
});
