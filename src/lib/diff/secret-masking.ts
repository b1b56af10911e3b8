/**
 * Secrets in a diff: every value of a Secret's `data` and `stringData` is replaced by a marker saying whether
 * it changed, decided by comparing sha256 digests, so that neither the value nor anything derived from it
 * (a digest of a short password can be guessed) reaches a terminal, a log or Pulumi's preview.
 */
import { createHash } from "node:crypto";
import type { ManifestObject } from "./manifest-objects";

export const MASK_UNCHANGED = "*** (unchanged)";
/** The live side of a changed value; the target side says "changed", so the diff shows the key as a -/+ pair. */
export const MASK_BEFORE = "*** (before)";
export const MASK_CHANGED = "*** (changed)";
export const MASK_ADDED = "*** (added)";
export const MASK_REMOVED = "*** (removed)";
/** A data/stringData field that is not a map of strings: masked whole. */
export const MASK_WHOLE = "*** (masked)";

const SECRET_FIELDS = ["data", "stringData"] as const;

export function isSecret(object: ManifestObject): boolean {
  return object.key.group === "" && object.key.kind === "Secret";
}

/**
 * The two sides of one object with any Secret values masked; objects that are not Secrets come back as they
 * are. `live` or `target` is undefined when the object is added or removed.
 */
export function maskSecretValues(
  live: ManifestObject | undefined,
  target: ManifestObject | undefined,
): [Record<string, unknown> | undefined, Record<string, unknown> | undefined] {
  const secret = (live !== undefined && isSecret(live)) || (target !== undefined && isSecret(target));
  if (!secret) return [live?.body, target?.body];
  const maskedLive = live === undefined ? undefined : { ...live.body };
  const maskedTarget = target === undefined ? undefined : { ...target.body };
  for (const field of SECRET_FIELDS) {
    const before = live?.body[field];
    const after = target?.body[field];
    if (maskedLive !== undefined && before !== undefined) maskedLive[field] = maskField(before, after, "live");
    if (maskedTarget !== undefined && after !== undefined) maskedTarget[field] = maskField(after, before, "target");
  }
  return [maskedLive, maskedTarget];
}

function maskField(own: unknown, other: unknown, side: "live" | "target"): unknown {
  if (!isMap(own)) return MASK_WHOLE;
  const others = isMap(other) ? other : {};
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(own)) {
    const counterpart = others[name];
    if (counterpart === undefined) masked[name] = side === "live" ? MASK_REMOVED : MASK_ADDED;
    else if (digest(value) === digest(counterpart)) masked[name] = MASK_UNCHANGED;
    else masked[name] = side === "live" ? MASK_BEFORE : MASK_CHANGED;
  }
  return masked;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function digest(value: unknown): string {
  return createHash("sha256")
    .update(typeof value === "string" ? value : JSON.stringify(value ?? null))
    .digest("hex");
}
