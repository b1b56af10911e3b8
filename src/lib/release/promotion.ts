/**
 * The promotion gate: a stack with `promoteFrom` runs only a target its lower stack has run with every
 * verification check passed. Each stack exports the target its last up verified (`verifiedTargets`); the
 * gate compares this stack's target with the lower stack's *current* export, so a target counts as
 * promoted only while it is what the lower stack last verified. Pure: the caller reads the stack outputs.
 */

/** What a promotion compares: the chart version and every pinned image tag (the tier may differ). */
export interface PromotionTarget {
  readonly chartVersion: string;
  readonly imageTags: Readonly<Record<string, string>>;
}

/** The `verifiedTargets` stack output: the target this stack's last up verified, when and at which revision. */
export interface VerifiedTarget extends PromotionTarget {
  /** The stack that verified it. */
  readonly stack: string;
  /** When `runbook verify` finished with every check passed (ISO 8601), if it said. */
  readonly verifiedAt?: string;
  /** The Helm revision the checks ran against. */
  readonly releaseRevision: number;
  /** The tier it ran with: recorded, not compared (dev runs starter, staging the tier prod runs). */
  readonly tier?: string;
}

/** `promotionOverride` and `promotionOverrideReason`: an emergency target let through without the lower stack. */
export interface PromotionOverride {
  /** The target's api tag or chart version, exactly. */
  readonly target: string;
  readonly reason: string;
}

export type PromotionDecision =
  | { readonly allowed: true; readonly how: "verified" | "overridden"; readonly record: string }
  | { readonly allowed: false; readonly message: string };

export interface PromotionInput {
  readonly target: PromotionTarget;
  /** This stack, named in messages. */
  readonly stack: string;
  /** `promoteFrom`: the lower stack, as given. */
  readonly lowerStack: string;
  /** The lower stack's `verifiedTargets` output as read (undefined or null when it exported none). */
  readonly lowerVerified: unknown;
  readonly override?: PromotionOverride;
}

/** A check result as `runbook verify` reports it (only what the gate reads). */
export interface CheckOutcome {
  readonly ok: boolean;
}

/**
 * The `verifiedTargets` value of an up: the target, when every check passed (and there was at least one);
 * null otherwise, so a stack whose verification failed promotes nothing.
 */
export function verifiedTarget(
  stack: string,
  target: PromotionTarget,
  checks: readonly CheckOutcome[],
  releaseRevision: number,
  verifiedAt?: string,
): VerifiedTarget | null {
  if (checks.length === 0 || !checks.every((c) => c.ok)) return null;
  return {
    stack,
    chartVersion: target.chartVersion,
    imageTags: { ...target.imageTags },
    releaseRevision,
    ...(verifiedAt === undefined ? {} : { verifiedAt }),
  };
}

/** `chart 1.4.2, api=v1.4.2, dashboard=v1.4.2, orchestrator=v1.4.2` (components sorted). */
export function describeTarget(target: PromotionTarget): string {
  const tags = Object.keys(target.imageTags)
    .sort()
    .map((c) => `${c}=${target.imageTags[c]}`);
  return [`chart ${target.chartVersion}`, ...tags].join(", ");
}

/** Reads a `verifiedTargets` output back; undefined when it is absent or not of that shape. */
export function parseVerifiedTarget(value: unknown): VerifiedTarget | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const tags = v.imageTags;
  if (typeof v.chartVersion !== "string" || typeof tags !== "object" || tags === null || Array.isArray(tags)) {
    return undefined;
  }
  if (Object.values(tags).some((t) => typeof t !== "string")) return undefined;
  return {
    stack: typeof v.stack === "string" ? v.stack : "",
    chartVersion: v.chartVersion,
    imageTags: tags as Record<string, string>,
    releaseRevision: typeof v.releaseRevision === "number" ? v.releaseRevision : NaN,
    ...(typeof v.verifiedAt === "string" ? { verifiedAt: v.verifiedAt } : {}),
  };
}

/** Whether `verified` is exactly `target`: the same chart version and the same tag for every component. */
export function sameTarget(target: PromotionTarget, verified: PromotionTarget): boolean {
  const a = Object.keys(target.imageTags).sort();
  const b = Object.keys(verified.imageTags).sort();
  return (
    target.chartVersion === verified.chartVersion &&
    a.length === b.length &&
    a.every((c, i) => c === b[i] && target.imageTags[c] === verified.imageTags[c])
  );
}

/** What the override may name: the target's api tag or its chart version. */
export function overrideNames(target: PromotionTarget): string[] {
  return [...new Set([target.imageTags.api, target.chartVersion].filter((n): n is string => n !== undefined))];
}

function describeVerified(lowerStack: string, verified: VerifiedTarget): string {
  const at = verified.verifiedAt === undefined ? "" : ` at ${verified.verifiedAt}`;
  const revision = Number.isFinite(verified.releaseRevision) ? `, revision ${verified.releaseRevision}` : "";
  return `verified by ${lowerStack}${at}${revision}`;
}

/**
 * Decides whether this stack may run `target`: yes when the lower stack's current `verifiedTargets` is exactly
 * this target; yes with the reason recorded when the override names this target; otherwise no, with a
 * message naming the target, the lower stack and what it last verified.
 */
export function decidePromotion(input: PromotionInput): PromotionDecision {
  const { target, lowerStack, override } = input;
  const verified = parseVerifiedTarget(input.lowerVerified);
  if (verified !== undefined && sameTarget(target, verified)) {
    return { allowed: true, how: "verified", record: describeVerified(lowerStack, verified) };
  }
  const names = overrideNames(target);
  if (override !== undefined && names.includes(override.target)) {
    return { allowed: true, how: "overridden", record: `overridden: ${override.reason}` };
  }
  const last =
    verified === undefined
      ? `${lowerStack} has verified nothing yet (its stack output verifiedTargets is empty: no up of it has passed verification)`
      : `${lowerStack} last verified ${describeTarget(verified)} (${describeVerified(lowerStack, verified)})`;
  const overrideNote =
    override === undefined
      ? `for an emergency fix, set promotionOverride to ${names.join(" or ")} and promotionOverrideReason to why`
      : `promotionOverride names ${override.target}, not this target (${names.join(" or ")})`;
  return {
    allowed: false,
    message:
      `stack ${input.stack} promotes from ${lowerStack}: the target ${describeTarget(target)} has not been ` +
      `verified by ${lowerStack}; ${last}. Run this target through ${lowerStack} first ` +
      `(\`pulumi up -s ${lowerStack}\` with the same chartVersion and imageTags), or ${overrideNote}`,
  };
}
