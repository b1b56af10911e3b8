import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  decodeHelmReleaseRecord,
  encodeHelmReleaseRecord,
  helmReleaseSecretName,
} from "../../src/lib/kube/helm-release-record";
import { assessConvergence, describeLiveRelease, LiveRelease } from "../../src/lib/release/convergence";
import { releaseGuard } from "../../src/lib/release/guard";
import {
  ReleaseInputs,
  releaseDescription,
  releaseInputsDigest,
  withNote,
  withoutNote,
} from "../../src/lib/release/release-inputs";

describe("release inputs: one digest over everything the release is made of", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-inputs-"));
  fs.writeFileSync(path.join(dir, "values.yaml"), "replicas: 1\n");
  fs.writeFileSync(path.join(dir, "values-starter.yaml"), "seats: 10\n");
  const inputs: ReleaseInputs = {
    chart: { name: "./chart", version: "1.4.0" },
    tier: "starter",
    valuesFiles: ["values.yaml", "values-starter.yaml"],
    siteValues: { replicas: { dashboard: 1 } },
    imageTags: { api: "v1.4.0", dashboard: "v1.4.0" },
    imageRepositories: { api: "registry/api", dashboard: "registry/dashboard" },
  };
  const digest = releaseInputsDigest(inputs, dir);

  it("is stable for the same inputs, whatever the key order", () => {
    const reordered = { ...inputs, imageTags: { dashboard: "v1.4.0", api: "v1.4.0" } };
    assert.strictEqual(releaseInputsDigest(reordered, dir), digest);
  });

  it("changes with a values file's content, site values, tier, chart version, a tag or a repository", () => {
    const variants: ReleaseInputs[] = [
      { ...inputs, siteValues: { replicas: { dashboard: 2 } } },
      { ...inputs, tier: "enterprise" },
      { ...inputs, chart: { ...inputs.chart, version: "1.4.1" } },
      { ...inputs, imageTags: { ...inputs.imageTags, api: "v1.4.1" } },
      { ...inputs, imageRepositories: { ...inputs.imageRepositories, api: "other/api" } },
      { ...inputs, valuesFiles: ["values.yaml"] },
    ];
    for (const v of variants) assert.notStrictEqual(releaseInputsDigest(v, dir), digest, JSON.stringify(v));
    fs.writeFileSync(path.join(dir, "values-starter.yaml"), "seats: 11\n");
    try {
      assert.notStrictEqual(releaseInputsDigest(inputs, dir), digest);
    } finally {
      fs.writeFileSync(path.join(dir, "values-starter.yaml"), "seats: 10\n");
    }
  });

  it("goes into the release description, which a note can follow without changing what it identifies", () => {
    const description = releaseDescription(inputs, digest);
    assert.match(
      description,
      /^release-runbook: tier starter, chart 1\.4\.0, api=v1\.4\.0 dashboard=v1\.4\.0; inputs [0-9a-f]{16}$/,
    );
    const noted = withNote(description, "re-applied over revision 7");
    assert.notStrictEqual(noted, description);
    assert.strictEqual(withoutNote(noted), description);
  });
});

/** The stack's target (api v1.4.1, chart 1.4.0) and revision 6, deployed from it, serving `liveTags`. */
function targetAndLive(liveTags: Record<string, string>) {
  const desired = {
    description: "release-runbook: tier starter, chart 1.4.0, api=v1.4.1; inputs abc",
    chartVersion: "1.4.0",
    imageTags: { api: "v1.4.1" },
  };
  const live: LiveRelease = {
    revision: 6,
    status: "deployed",
    chartVersion: "1.4.0",
    description: desired.description,
    imageTags: liveTags,
  };
  return { desired, live };
}

describe("convergence: does the live release run the stack's target?", () => {
  const { desired, live } = targetAndLive({ api: "v1.4.1", orchestrator: "v1.4.1" });

  it("in sync: deployed, made by this target, serving its tags", () => {
    assert.deepStrictEqual(assessConvergence(live, desired), { inSync: true, reasons: [] });
    assert.strictEqual(
      assessConvergence({ ...live, description: withNote(desired.description, "re-applied") }, desired).inSync,
      true,
    );
  });

  it("a hand helm rollback: made by Helm, serving the older tag", () => {
    const c = assessConvergence(
      { ...live, revision: 7, description: "Rollback to 1", imageTags: { api: "v1.4.0" } },
      desired,
    );
    assert.strictEqual(c.inSync, false);
    assert.ok(
      c.reasons.some((r) => r === "api v1.4.0 serves, v1.4.1 is the target"),
      c.reasons.join("; "),
    );
    assert.ok(
      c.reasons.some((r) => r.includes('"Rollback to 1"')),
      c.reasons.join("; "),
    );
  });

  it("a release stuck in pending-upgrade, or left failed", () => {
    for (const status of ["pending-upgrade", "failed"]) {
      const c = assessConvergence({ ...live, status }, desired);
      assert.deepStrictEqual(c.reasons, [`revision 6 is ${status}`]);
    }
  });

  it("a new target (values-only change): the description differs", () => {
    const c = assessConvergence(live, {
      ...desired,
      description: "release-runbook: tier starter, chart 1.4.0, api=v1.4.1; inputs def",
    });
    assert.strictEqual(c.inSync, false);
  });

  it("not installed yet", () => {
    assert.deepStrictEqual(assessConvergence(undefined, desired), {
      inSync: false,
      reasons: ["the release is not installed"],
    });
    assert.strictEqual(describeLiveRelease(undefined), "not installed");
    assert.strictEqual(describeLiveRelease(live), "revision 6 deployed, chart 1.4.0, api=v1.4.1 orchestrator=v1.4.1");
  });
});

describe("Helm's release record", () => {
  it("decodes what Helm stores: gzipped JSON, base64", () => {
    const stored = encodeHelmReleaseRecord({
      name: "alexandria-ee",
      namespace: "alexandria",
      version: 3,
      info: { status: "deployed", description: "Rollback to 1" },
      chart: { metadata: { name: "alexandria-ee", version: "1.4.0", appVersion: "1.4.0" } },
      config: { image: { api: { tag: "v1.4.0" } } },
      manifest: "---\nkind: Deployment\n",
    });
    const record = decodeHelmReleaseRecord(stored);
    assert.strictEqual(record.version, 3);
    assert.strictEqual(record.info.description, "Rollback to 1");
    assert.strictEqual(record.chart.metadata.version, "1.4.0");
    assert.deepStrictEqual(record.config, { image: { api: { tag: "v1.4.0" } } });
    assert.strictEqual(helmReleaseSecretName("alexandria-ee", 3), "sh.helm.release.v1.alexandria-ee.v3");
  });
});

describe("release guard keys", () => {
  const { desired: target, live } = targetAndLive({ api: "v1.4.1" });
  const desired = { digest: "abc", ...target };

  it("in sync: the live key is constant whatever the revision, and nothing is re-applied", () => {
    const a = releaseGuard(desired, live);
    const b = releaseGuard(desired, { ...live, revision: 9, description: withNote(desired.description, "x") });
    assert.strictEqual(a.inSync, true);
    assert.strictEqual(a.liveRelease, b.liveRelease);
    assert.strictEqual(a.reapplyNote, undefined);
  });

  it("drifted: the live key names what serves and why, and the release gets a note that differs per revision", () => {
    const g = releaseGuard(desired, {
      ...live,
      revision: 7,
      description: "Rollback to 1",
      imageTags: { api: "v1.4.0" },
    });
    assert.strictEqual(g.inSync, false);
    assert.match(g.liveRelease, /^revision 7 deployed, chart 1\.4\.0, api=v1\.4\.0: /);
    assert.strictEqual(g.reapplyNote, "applied over revision 7 (deployed)");
  });

  it("unreadable: never in sync, every guard runs, the release is not forced", () => {
    const g = releaseGuard(desired, undefined, "connection refused");
    assert.strictEqual(g.inSync, false);
    assert.strictEqual(g.liveRelease, "unknown: connection refused");
    assert.strictEqual(g.reapplyNote, undefined);
  });
});
