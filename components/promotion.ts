import * as pulumi from "@pulumi/pulumi";
import { ConfigError, RunbookConfig } from "../src/lib/config/schema";
import {
  decidePromotion,
  describeTarget,
  PromotionTarget,
  VerifiedTarget,
  verifiedTarget,
} from "../src/lib/release/promotion";
import type { UpgradePipeline } from "./upgradePipeline";

/** The part of the target a promotion compares: the chart version and every pinned image tag. */
export function promotionTarget(config: RunbookConfig): PromotionTarget {
  return { chartVersion: config.chart.version, imageTags: config.imageTags };
}

/**
 * Gates the target on the lower stack (`promoteFrom`) before the pipeline is registered: reads that stack's
 * current `verifiedTargets` output through a StackReference (at preview too) and throws a ConfigError naming
 * the target, the lower stack and what it last verified when it has not verified this target. Returns what
 * the stack output `promotion` records: how the target got through.
 */
export async function gatePromotion(config: RunbookConfig): Promise<string> {
  const from = config.promotion.from;
  if (from === undefined) return "not gated: no promoteFrom";
  const lower = new pulumi.StackReference(`${config.releaseName}-promote-from`, { name: from });
  const details = await lower.getOutputDetails("verifiedTargets");
  const decision = decidePromotion({
    target: promotionTarget(config),
    stack: config.stack,
    lowerStack: from,
    lowerVerified: details.value ?? details.secretValue,
    override: config.promotion.override,
  });
  if (!decision.allowed) throw new ConfigError([`${config.project}:promoteFrom: ${decision.message}`]);
  if (decision.how === "overridden") {
    pulumi.log.warn(
      `promotion: ${describeTarget(promotionTarget(config))} has not been verified by ${from}; ` +
        `promotionOverride lets it through: ${config.promotion.override?.reason ?? ""}`,
    );
  } else {
    pulumi.log.info(`promotion: ${decision.record}`);
  }
  return decision.record;
}

/**
 * The stack output `verifiedTargets`: the target this up verified (chart version and every pinned tag), when
 * and at which Helm revision; null unless every verification check passed. It holds this up's value only: a
 * stack promoting from this one compares with what this stack verified last.
 */
export function verifiedTargetsOutput(
  config: RunbookConfig,
  pipeline: Pick<UpgradePipeline, "release" | "verification">,
): pulumi.Output<VerifiedTarget | null> {
  return pulumi
    .all([pipeline.verification.checks, pipeline.verification.finishedAt, pipeline.release.revision])
    .apply(([checks, finishedAt, revision]) => {
      const verified = verifiedTarget(config.stack, promotionTarget(config), checks, revision, finishedAt);
      return verified === null ? null : { ...verified, tier: config.tier };
    });
}
