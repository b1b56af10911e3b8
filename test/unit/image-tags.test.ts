import * as assert from "assert";
import { crossesMinor, parseSemverTag, tagProblem } from "../../src/lib/release/image-tags";
import { isDigest, isOciTag } from "../../src/lib/registry/reference";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("versions: tag rules", () => {
  it("parses semver tags with and without v, with a pre-release", () => {
    assert.deepStrictEqual(parseSemverTag("v1.2.3"), { major: 1, minor: 2, patch: 3 });
    assert.deepStrictEqual(parseSemverTag("10.20.30"), { major: 10, minor: 20, patch: 30 });
    assert.deepStrictEqual(parseSemverTag("v1.3.0-rc.1"), { major: 1, minor: 3, patch: 0, prerelease: "rc.1" });
    for (const bad of ["v1.2", "1.2.3.4", "v01.2.3", "v1.2.3+build", "main", "", "V1.2.3", DIGEST]) {
      assert.strictEqual(parseSemverTag(bad), undefined, bad);
    }
  });

  it("recognises sha256 digests only when complete and lowercase", () => {
    assert.ok(isDigest(DIGEST));
    assert.ok(!isDigest("sha256:abc"));
    assert.ok(!isDigest(`sha256:${"AB".repeat(32)}`));
    assert.ok(!isDigest(`sha512:${"ab".repeat(64)}`));
  });

  it("never accepts an empty tag or latest, protected or not", () => {
    for (const protectedStack of [false, true]) {
      assert.match(tagProblem("", { protectedStack }) ?? "", /empty/);
      assert.match(tagProblem("  ", { protectedStack }) ?? "", /empty/);
      assert.match(tagProblem("latest", { protectedStack }) ?? "", /latest/);
    }
  });

  it("accepts semver tags and digests in a protected stack, nothing else", () => {
    for (const ok of ["v1.2.3", "1.2.3", "v2.0.0-beta.2", DIGEST]) {
      assert.strictEqual(tagProblem(ok, { protectedStack: true }), undefined, ok);
    }
    for (const bad of ["main", "v1.2", "build-1234", "stable"]) {
      assert.match(tagProblem(bad, { protectedStack: true }) ?? "", /protected stack/, bad);
    }
  });

  it("accepts any valid OCI tag elsewhere, but not shell syntax", () => {
    for (const ok of ["main", "build-1234", "v1.2", "feature_x.1"])
      assert.strictEqual(tagProblem(ok, { protectedStack: false }), undefined, ok);
    for (const bad of ["v1.2.3$(touch /tmp/pwned)", "v1.2.3`id`", "a;b", "-leading", "x".repeat(129), "v1 2"]) {
      assert.ok(!isOciTag(bad), bad);
      assert.match(tagProblem(bad, { protectedStack: false }) ?? "", /not a valid image tag/, bad);
      assert.match(tagProblem(bad, { protectedStack: true }) ?? "", /not a semver tag/, bad);
    }
  });
});

describe("versions: crossesMinor", () => {
  it("is false within one minor version (patches, pre-releases, with or without v)", () => {
    assert.strictEqual(crossesMinor("v1.2.3", "v1.2.4"), false);
    assert.strictEqual(crossesMinor("1.2.3", "v1.2.9"), false);
    assert.strictEqual(crossesMinor("v1.2.3", "v1.2.4-rc.1"), false);
    assert.strictEqual(crossesMinor("v1.2.4", "v1.2.3"), false);
  });

  it("is true across minor or major versions, in either direction", () => {
    assert.strictEqual(crossesMinor("v1.2.3", "v1.3.0"), true);
    assert.strictEqual(crossesMinor("v1.3.0", "v1.2.9"), true);
    assert.strictEqual(crossesMinor("v1.9.9", "v2.0.0"), true);
    assert.strictEqual(crossesMinor("v2.0.0", "v1.0.0"), true);
  });

  it("counts anything it cannot compare as crossing, except the identical tag", () => {
    assert.strictEqual(crossesMinor("v1.2.3", DIGEST), true);
    assert.strictEqual(crossesMinor(DIGEST, "v1.2.3"), true);
    assert.strictEqual(crossesMinor("main", "v1.2.3"), true);
    assert.strictEqual(crossesMinor(DIGEST, DIGEST), false);
  });
});
