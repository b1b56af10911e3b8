import * as assert from "assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  createStack,
  filesHolding,
  deployedImages,
  deployedLicenseTier,
  firstInstallStack,
  helmRevisions,
  image,
  makeProjectCopy,
  manifests,
  NAMESPACE,
  removeProjectCopy,
  RELEASE,
  REPO,
  requireSandbox,
  resetSandbox,
  setFixtureMode,
  setTags,
  stepOrder,
  up,
} from "./support/project";

describe("e2e: the upgrade pipeline with the real engine against a real API server", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let stack: Stack;

  before(async () => {
    ({ project, stack } = await firstInstallStack("e2e-pipeline", "v1.4.0"));
  });

  it("first up installs the release: revision 1, pinned images, the tier's values", async () => {
    const run = await up(stack);
    assert.ifError(run.error);
    assert.deepStrictEqual(helmRevisions(), [{ revision: 1, status: "deployed" }]);
    assert.deepStrictEqual(deployedImages(), {
      api: image("api", "v1.4.0"),
      orchestrator: image("orchestrator", "v1.4.0"),
      dashboard: image("dashboard", "v1.4.0"),
    });
    assert.strictEqual(deployedLicenseTier(), "starter");
    const outputs = await stack.outputs();
    assert.strictEqual(outputs.releaseRevision.value, 1);
    assert.strictEqual(outputs.releaseStatus.value, "deployed");
    assert.match(outputs.verification.value, /ready=ok/);
    assert.match(outputs.verification.value, /auth-setup=ok/);
    assert.strictEqual(manifests(project.snapshots).length, 1);
    // From now on the application has its admin: /auth/setup must no longer answer 200.
    await setFixtureMode({ adminExists: true });
  });

  it("preview after a tag change shows the release update and a new snapshot, and changes nothing", async () => {
    await setTags(stack, "v1.4.1");
    const preview = await stack.preview({ diff: true, color: "never" });
    const changes = preview.changeSummary;
    assert.ok((changes.update ?? 0) >= 1, `expected updates, got ${JSON.stringify(changes)}`);
    assert.ok((changes.replace ?? 0) >= 1, `expected the snapshot id to be replaced, got ${JSON.stringify(changes)}`);
    assert.match(preview.stdout, /kubernetes:helm\.sh\/v3:Release/);
    assert.match(preview.stdout, /v1\.4\.1/);
    assert.deepStrictEqual(helmRevisions(), [{ revision: 1, status: "deployed" }]);
    assert.strictEqual(deployedImages().api, image("api", "v1.4.0"));
    assert.strictEqual(manifests(project.snapshots).length, 1);
  });

  it("up after the tag change runs preflight → snapshot → release → verification, and reaches revision 2", async () => {
    const run = await up(stack);
    assert.ifError(run.error);
    const order = stepOrder(run.events);
    const done = (suffix: string) => order.findIndex((s) => s.phase === "done" && s.urn.endsWith(suffix));
    const pre = (suffix: string) => order.findIndex((s) => s.phase === "pre" && s.urn.endsWith(suffix));
    const preflightDone = done("-preflight-preflight");
    const dumpStart = pre("-snapshot-dump");
    const dumpDone = done("-snapshot-dump");
    const releaseStart = pre("-release-release");
    const releaseDone = done("-release-release");
    const verifyStart = pre("-verification-verify");
    for (const [name, i] of Object.entries({
      preflightDone,
      dumpStart,
      dumpDone,
      releaseStart,
      releaseDone,
      verifyStart,
    })) {
      assert.ok(
        i >= 0,
        `no ${name} event in ${JSON.stringify(order.map((o) => `${o.phase} ${o.urn.split("::").pop()}`))}`,
      );
    }
    assert.ok(preflightDone < dumpStart, "the snapshot started before preflight finished");
    assert.ok(dumpDone < releaseStart, "the release started before the snapshot finished");
    assert.ok(releaseDone < verifyStart, "verification started before the release finished");
    // The recorded dependencies say the same.
    const state = await stack.exportStack();
    const resources = state.deployment.resources as { urn: string; dependencies?: string[] }[];
    const helm = resources.find((r) => r.urn.endsWith("-release-release"))!;
    assert.ok(
      helm.dependencies?.some((d) => d.endsWith("-snapshot-dump")),
      "state: the release does not depend on the dump",
    );
    assert.deepStrictEqual(
      helmRevisions().map((r) => r.revision),
      [1, 2],
    );
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
    const outputs = await stack.outputs();
    assert.strictEqual(outputs.releaseRevision.value, 2);
    const snapshotPath = outputs.snapshotPath.value as string;
    assert.ok(fs.existsSync(snapshotPath), snapshotPath);
    const listing = execFileSync("pg_restore", ["--list", snapshotPath], { encoding: "utf8" });
    assert.match(listing, /TABLE DATA public users/);
    assert.strictEqual(manifests(project.snapshots).length, 2);
  });

  it("a second up with nothing changed is a no-op: no new snapshot, no new revision", async () => {
    const run = await up(stack);
    assert.ifError(run.error);
    const summary = (await stack.history(1))[0];
    const changed = Object.entries(summary.resourceChanges ?? {}).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
    assert.deepStrictEqual(changed, [], `expected only 'same', got ${JSON.stringify(summary.resourceChanges)}`);
    assert.deepStrictEqual(
      helmRevisions().map((r) => r.revision),
      [1, 2],
    );
    assert.strictEqual(manifests(project.snapshots).length, 2);
  });

  it("a tag missing from the registry stops the up before the snapshot and the release", async () => {
    await setTags(stack, "v9.9.9");
    const run = await up(stack);
    assert.ok(run.error, "up should have failed");
    assert.match(String(run.error), /v9\.9\.9/);
    assert.match(String(run.error), /not found|missing|does not exist/i);
    assert.strictEqual(manifests(project.snapshots).length, 2, "a snapshot was taken although preflight failed");
    assert.deepStrictEqual(
      helmRevisions().map((r) => r.revision),
      [1, 2],
    );
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
  });

  it("pods that never become Ready: Helm rolls back, up fails naming the release, the next good up converges", async () => {
    await setTags(stack, "broken");
    const run = await up(stack);
    assert.ok(run.error, "up should have failed");
    assert.match(String(run.error), new RegExp(RELEASE));
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"), "the previous revision is not serving");
    const revisions = helmRevisions();
    assert.strictEqual(revisions[revisions.length - 1].status, "deployed", JSON.stringify(revisions));
    assert.ok(
      revisions.some((r) => r.status === "failed"),
      JSON.stringify(revisions),
    );

    await setTags(stack, "v1.5.0");
    const retry = await up(stack);
    assert.ifError(retry.error);
    assert.strictEqual(deployedImages().api, image("api", "v1.5.0"));
    assert.strictEqual(helmRevisions().at(-1)?.status, "deployed");
    const outputs = await stack.outputs();
    assert.strictEqual(outputs.releaseStatus.value, "deployed");
  });

  it("a failing /license check fails the up and names the check", async () => {
    await setFixtureMode({ tier: "enterprise" });
    await setTags(stack, "v1.4.1");
    const run = await up(stack);
    await setFixtureMode({ tier: "starter" });
    assert.ok(run.error, "up should have failed");
    assert.match(String(run.error), /license/);
    assert.match(String(run.error), /enterprise/);
  });

  it("the database password is nowhere in the stack's state, history or stack files", () => {
    // The application role's password, which the DSN Secret holds (APP_PASSWORD in test/e2e/sandbox/lib.sh).
    const password = "alexandria-e2e-pw";
    assert.deepStrictEqual(filesHolding(project, password), []);
  });

  after(() => removeProjectCopy(project));
});

describe("e2e: adopting a release installed by hand", function () {
  let project: ReturnType<typeof makeProjectCopy>;

  before(async () => {
    requireSandbox();
    resetSandbox();
    project = makeProjectCopy();
    const chart = path.join(REPO, "test", "fixtures", "charts", "alexandria-ee");
    execFileSync(
      "helm",
      [
        "install",
        RELEASE,
        chart,
        "-n",
        NAMESPACE,
        "-f",
        path.join(chart, "values.yaml"),
        "-f",
        path.join(chart, "values-starter.yaml"),
        "--set",
        "image.api.tag=v1.4.0",
        "--set",
        "image.orchestrator.tag=v1.4.0",
        "--set",
        "image.dashboard.tag=v1.4.0",
        "--wait",
        "--timeout",
        "60s",
      ],
      { stdio: "inherit" },
    );
    await setFixtureMode({ adminExists: true, tier: "starter" });
  });

  it("imports the existing release and upgrades it in place, without reinstalling", async () => {
    assert.deepStrictEqual(helmRevisions(), [{ revision: 1, status: "deployed" }]);
    const stack = await createStack(project, "e2e-adopt", { tags: "v1.4.0", adopt: true });
    const adopted = await up(stack);
    assert.ifError(adopted.error);
    assert.ok(
      helmRevisions().some((r) => r.revision === 1),
      "revision 1 vanished: the release was reinstalled",
    );
    await setTags(stack, "v1.4.1");
    const upgraded = await up(stack);
    assert.ifError(upgraded.error);
    const revisions = helmRevisions();
    assert.strictEqual(revisions[0].revision, 1, "the release history restarted: it was reinstalled");
    assert.strictEqual(revisions.at(-1)?.status, "deployed");
    assert.ok(revisions.at(-1)!.revision >= 2);
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
  });

  after(() => removeProjectCopy(project));
});
