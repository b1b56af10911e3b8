/**
 * The runbook's image tag policy, the one definition used by config validation, the release component and
 * the preflight CLI. Pure functions: no I/O. The OCI grammar itself is the registry client's.
 */
import { isDigest, isOciTag } from "../registry/reference";

/** `vX.Y.Z` or `X.Y.Z` with an optional pre-release (`-rc.1`). No build metadata: `+` is not allowed in OCI tags. */
const SEMVER_TAG = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export interface SemverTag {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease?: string;
}

export interface TagRules {
  /** Protected stacks (prod) accept only semver tags or digests, so that the minor-version gate can reason. */
  readonly protectedStack: boolean;
}

/** Parses `v1.2.3` / `1.2.3-rc.1`; undefined for anything else (digests included). */
export function parseSemverTag(tag: string): SemverTag | undefined {
  const m = SEMVER_TAG.exec(tag);
  if (m === null) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    ...(m[4] === undefined ? {} : { prerelease: m[4] }),
  };
}

/**
 * What is wrong with an image tag, as a phrase that completes "the tag ... ", or undefined when it is
 * acceptable. The caller names the config key or flag.
 */
export function tagProblem(tag: string, rules: TagRules): string | undefined {
  if (tag.trim().length === 0) return "is empty; pin an explicit version such as v1.2.3";
  if (tag === "latest") return "is `latest`, which moves under you; pin an explicit version such as v1.2.3";
  if (isDigest(tag) || parseSemverTag(tag) !== undefined) return undefined;
  if (rules.protectedStack) {
    return `'${tag}' is not a semver tag (v1.2.3, 1.2.3, v1.2.3-rc.1) or a sha256: digest, as a protected stack requires`;
  }
  if (!isOciTag(tag)) {
    return `'${tag}' is not a valid image tag (letters, digits, '_', '.', '-'; at most 128 characters) or a sha256: digest`;
  }
  return undefined;
}

/**
 * True when going from `from` to `to` changes the major or minor version, in either direction: that is
 * where schema migrations happen. A tag that is not semver (a digest, a branch tag) cannot be shown to stay
 * inside one minor version, so it counts as crossing (unless the two are identical).
 */
export function crossesMinor(from: string, to: string): boolean {
  if (from === to) return false;
  const a = parseSemverTag(from);
  const b = parseSemverTag(to);
  if (a === undefined || b === undefined) return true;
  return a.major !== b.major || a.minor !== b.minor;
}
