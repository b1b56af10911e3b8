/**
 * Guards that follow the live release, with the real engine against the sandbox: preflight and the snapshot
 * run before every release change (a values-only change, a hand `helm rollback`, a retry after a broken
 * rollout), a stuck release is refused with the way out, and a no-op up runs nothing.
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import {
  deployedImages,
  firstInstallStack,
  helmRevisions,
  image,
  makeProjectCopy,
  manifests,
  NAMESPACE,
  RELEASE,
  REPO,
  removeProjectCopy,
  setFixtureMode,
  setTags,
  up,
  withDb,
} from "./support/project";

/** The URN suffixes of the resources the engine created, updated or replaced in an up. */
function changedResources(events: readonly EngineEvent[]): string[] {
  return events
    .filter((e) => e.resOutputsEvent && !["same", "read"].includes(e.resOutputsEvent.metadata.op))
    .map((e) => `${e.resOutputsEvent!.metadata.op} ${e.resOutputsEvent!.metadata.urn.split("::").pop()}`);
}

const ran = (events: readonly EngineEvent[], suffix: string) =>
  changedResources(events).some((c) => c.endsWith(suffix));

function helm(...args: string[]): string {
  return execFileSync("helm", [...args, "-n", NAMESPACE], { encoding: "utf8" });
}

describe("e2e: guards that follow the live release", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let stack: Stack;

  before(async () => {
    ({ project, stack } = await firstInstallStack("e2e-live-guards", "v1.4.0"));
    const first = await up(stack);
    assert.ifError(first.error);
    await setFixtureMode({ adminExists: true });
    await setTags(stack, "v1.4.1");
    const second = await up(stack);
    assert.ifError(second.error);
    assert.deepStrictEqual(
      helmRevisions().map((r) => r.revision),
      [1, 2],
    );
  });

  it("a no-op up runs no command, takes no snapshot and makes no revision", async () => {
    const snapshots = manifests(project.snapshots).length;
    const run = await up(stack);
    assert.ifError(run.error);
    assert.deepStrictEqual(changedResources(run.events), []);
    assert.strictEqual(manifests(project.snapshots).length, snapshots);
    assert.deepStrictEqual(
      helmRevisions().map((r) => r.revision),
      [1, 2],
    );
    assert.match(run.output, /is the target: no guard runs/);
    // The live facts, printed before anything runs: revision, status, chart, tags, schema version.
    assert.match(run.output, /serves: revision 2 deployed, chart 1\.4\.0, api=v1\.4\.1 .*schema version 1/);
  });

  it("a values-only change runs preflight and takes a snapshot before the release changes", async () => {
    const snapshots = manifests(project.snapshots).length;
    await stack.setConfig("siteValues", { value: JSON.stringify({ replicas: { dashboard: 2 } }) });
    const run = await up(stack);
    assert.ifError(run.error);
    assert.ok(ran(run.events, "-preflight-preflight"), `preflight did not run: ${changedResources(run.events)}`);
    assert.ok(ran(run.events, "-snapshot-dump"), `no snapshot: ${changedResources(run.events)}`);
    assert.ok(ran(run.events, "-release-release"), `the release did not change: ${changedResources(run.events)}`);
    assert.strictEqual(manifests(project.snapshots).length, snapshots + 1);
    assert.strictEqual(helmRevisions().at(-1)?.revision, 3);
    // ...and then it is the target again: nothing runs.
    const again = await up(stack);
    assert.ifError(again.error);
    assert.deepStrictEqual(changedResources(again.events), []);
  });

  it("after a hand helm rollback, preview shows the release update and up restores the stack's tags", async () => {
    helm("rollback", RELEASE, "1", "--wait", "--timeout", "60s");
    assert.strictEqual(deployedImages().api, image("api", "v1.4.0"));
    const preview = await stack.preview({ diff: true, color: "never" });
    assert.ok((preview.changeSummary.update ?? 0) >= 1, JSON.stringify(preview.changeSummary));
    assert.match(preview.stdout, /kubernetes:helm\.sh\/v3:Release/);
    assert.match(preview.stdout, /api v1\.4\.0 serves, v1\.4\.1 is the target/);
    // What Helm will change, rendered: the Deployments and the api image.
    assert.match(preview.stdout, /Deployment: \d+ changed/);
    assert.match(
      preview.stdout,
      /api: 127\.0\.0\.1:15000\/alexandria\/api:v1\.4\.0 → 127\.0\.0\.1:15000\/alexandria\/api:v1\.4\.1/,
    );
    const snapshots = manifests(project.snapshots).length;
    const run = await up(stack);
    assert.ifError(run.error);
    assert.ok(ran(run.events, "-preflight-preflight"), `preflight did not run: ${changedResources(run.events)}`);
    assert.strictEqual(manifests(project.snapshots).length, snapshots + 1, "no snapshot before re-applying");
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
    assert.strictEqual(helmRevisions().at(-1)?.status, "deployed");
    const again = await up(stack);
    assert.ifError(again.error);
    assert.deepStrictEqual(changedResources(again.events), []);
  });

  it("a retry with the same config after a broken rollout runs preflight again and retries the upgrade", async () => {
    await setTags(stack, "broken");
    const failed = await up(stack);
    assert.ok(failed.error, "the broken rollout should fail the up");
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
    const retry = await up(stack);
    assert.ok(retry.error, "the retry must fail again while the broken tag cannot become Ready");
    assert.ok(
      ran(retry.events, "-preflight-preflight"),
      `preflight did not run again: ${changedResources(retry.events)}`,
    );
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"), "another tag serves than the one reported");
    // Nothing claims the target serves: a preview says the release will still change.
    const preview = await stack.preview({ color: "never" });
    assert.match(preview.stdout, /will change \(.*api v1\.4\.1 serves, broken is the target/);
    assert.doesNotMatch(preview.stdout, /is the target: no guard runs/);
    // Fix forward: a good tag converges.
    await setTags(stack, "v1.5.0");
    const fixed = await up(stack);
    assert.ifError(fixed.error);
    assert.strictEqual(deployedImages().api, image("api", "v1.5.0"));
    const again = await up(stack);
    assert.deepStrictEqual(changedResources(again.events), []);
  });

  it("a release left in pending-upgrade is refused by preflight, naming the revision and the way out", async () => {
    // An upgrade killed mid-way, as an interrupted up or a lost CI runner leaves it.
    const chart = path.join(REPO, "test", "fixtures", "charts", "alexandria-ee");
    const stuck: ChildProcess = spawn(
      "helm",
      [
        "upgrade",
        RELEASE,
        chart,
        "-n",
        NAMESPACE,
        "--reuse-values",
        "--set",
        "image.api.tag=broken",
        "--wait",
        "--timeout",
        "120s",
      ],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 30_000;
    while (helmRevisions().at(-1)?.status !== "pending-upgrade" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    stuck.kill("SIGKILL");
    const pending = helmRevisions().at(-1)!;
    assert.strictEqual(pending.status, "pending-upgrade");
    await setTags(stack, "v1.4.1");
    const run = await up(stack);
    assert.ok(run.error, "up should have been refused");
    assert.match(String(run.error), new RegExp(`revision ${pending.revision}`));
    assert.match(String(run.error), /pending-upgrade/);
    assert.match(String(run.error), /helm rollback/);
    assert.strictEqual(helmRevisions().at(-1)?.revision, pending.revision, "the up touched the stuck release");
    // The way out, then the up converges.
    helm("rollback", RELEASE, "--wait", "--timeout", "60s");
    const after = await up(stack);
    assert.ifError(after.error);
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"));
  });

  it("a failed /ready after an upgrade that did not move the schema brings the previous revision back", async () => {
    const before = helmRevisions().at(-1)!;
    await setFixtureMode({ readyNever: true });
    await setTags(stack, "v1.5.0");
    const run = await up(stack);
    await setFixtureMode({ readyNever: false });
    assert.ok(run.error, "the up must fail on the failed check");
    assert.match(String(run.error), /ready/);
    assert.match(String(run.error), new RegExp(`rolled back to revision ${before.revision}, which serves again`));
    assert.strictEqual(deployedImages().api, image("api", "v1.4.1"), "the previous release does not serve");
    const latest = helmRevisions().at(-1)!;
    assert.ok(latest.revision > before.revision + 1, JSON.stringify(helmRevisions()));
    assert.strictEqual(latest.status, "deployed");
    // The stack's target is still v1.5.0: the next up sees the drift and tries again (fix forward).
    const preview = await stack.preview({ color: "never" });
    assert.match(preview.stdout, /api v1\.4\.1 serves, v1\.5\.0 is the target/);
    await setTags(stack, "v1.4.1");
  });

  it("a failed check after a migration leaves the release and prints the rollback with the restore; a revert is refused", async () => {
    const before = helmRevisions().at(-1)!;
    await setFixtureMode({ readyNever: true });
    await setTags(stack, "v1.5.0");
    // v1.5.0's start-up migrates the schema: once Helm has begun the upgrade (after the snapshot), as the
    // application would, while the rollout runs.
    let migrated = false;
    const migrate = (async () => {
      const deadline = Date.now() + 120_000;
      while (!migrated && Date.now() < deadline) {
        if ((helmRevisions().at(-1)?.revision ?? 0) > before.revision) {
          await withDb((db) => db.query("insert into schema_migrations (version, applied_at) values (2, now())"));
          migrated = true;
        } else await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const run = await up(stack);
    await migrate;
    await setFixtureMode({ readyNever: false });
    try {
      assert.ok(migrated, "the migration did not happen during the up");
      assert.ok(run.error, "the up must fail on the failed check");
      assert.match(String(run.error), /ready/);
      assert.match(String(run.error), /the schema moved from 1 to 2/);
      assert.match(
        String(run.error),
        /runbook rollback --stack e2e-live-guards --to last-good --restore-snapshot \S+ --yes/,
      );
      assert.strictEqual(deployedImages().api, image("api", "v1.5.0"), "the release must stay on the migrated schema");
      // A git revert of the stack file to v1.4.1 (which ran with schema 1) is refused by preflight's schema guard.
      const revisionNow = helmRevisions().at(-1)!.revision;
      await setTags(stack, "v1.4.1");
      const reverted = await up(stack);
      assert.ok(reverted.error, "the downgrade across the migration should have been refused");
      assert.match(String(reverted.error), /schema-guard/);
      assert.match(String(reverted.error), /live schema is 2, newer than 1, the schema v1\.4\.1 last ran with/);
      assert.match(String(reverted.error), /runbook rollback --stack e2e-live-guards/);
      assert.strictEqual(helmRevisions().at(-1)!.revision, revisionNow, "the refused up touched the release");
      assert.strictEqual(deployedImages().api, image("api", "v1.5.0"));
    } finally {
      await withDb((db) => db.query("delete from schema_migrations where version = 2"));
      await setTags(stack, "v1.4.1");
    }
  });

  after(() => removeProjectCopy(project));
});
