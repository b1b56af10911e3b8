import * as assert from "assert";
import { buildHistory, HistoryEntry, SnapshotRecord, UpdateRecord } from "../../src/lib/rollback/history";
import { planRollback } from "../../src/lib/rollback/plan";
import { targetsFromConfig } from "../../src/lib/rollback/targets";
import { revisionsFromSecrets } from "../../src/lib/kube/helm-release";

const tags = (v: string) => JSON.stringify({ api: v, orchestrator: v, dashboard: v });
const cfg = (v: string, chartVersion = "1.4.0") => ({
  "release-runbook:imageTags": { value: tags(v) },
  "release-runbook:chartVersion": { value: chartVersion },
  "release-runbook:tier": { value: "enterprise" },
  "release-runbook:pgDsn": { value: "[secret]", secret: true },
});
const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute, 0));

function update(version: number, v: string, minute: number, result = "succeeded"): UpdateRecord {
  return { version, kind: "update", result, startTime: at(minute), endTime: at(minute + 2), config: cfg(v) };
}
function snapshot(name: string, minute: number, schemaVersion: string | null): SnapshotRecord {
  return {
    name,
    path: `/snaps/${name}`,
    manifestPath: `/snaps/${name}.manifest.json`,
    sha256: "f".repeat(64),
    createdAt: at(minute).toISOString().replace("00.000Z", "30.000Z"),
    schemaVersion,
  };
}

/** v1 installs (schema 1), v2 upgrades (snapshot before it records schema 1; migration → 2), v3 fails. */
function history(): HistoryEntry[] {
  return buildHistory(
    [update(1, "v1.3.0", 0), update(2, "v1.4.0", 10), update(3, "v1.5.0", 20, "failed")],
    [
      snapshot("alexandria-ee-aaaa", 0, null),
      snapshot("alexandria-ee-bbbb", 10, "1"),
      snapshot("alexandria-ee-cccc", 20, "2"),
    ],
    [
      { revision: 1, status: "superseded", createdAt: new Date(at(1).getTime()) },
      { revision: 2, status: "deployed", createdAt: new Date(at(11).getTime()) },
      { revision: 3, status: "failed", createdAt: new Date(at(21).getTime()) },
    ],
  );
}

describe("rollback: history", () => {
  it("joins each update with the snapshot it took and the revision it produced", () => {
    const h = history();
    assert.deepStrictEqual(
      h.map((e) => e.version),
      [1, 2, 3],
    );
    assert.deepStrictEqual(h[1].targets.imageTags, { api: "v1.4.0", orchestrator: "v1.4.0", dashboard: "v1.4.0" });
    assert.strictEqual(h[1].targets.chartVersion, "1.4.0");
    assert.strictEqual(h[1].snapshot?.name, "alexandria-ee-bbbb");
    assert.strictEqual(h[1].releaseRevision, 2);
    assert.strictEqual(h[0].snapshot?.name, "alexandria-ee-aaaa");
  });

  it("says a revision is unknown (absent) when the cluster was not read, and null when none was produced", () => {
    const noCluster = buildHistory([update(1, "v1.3.0", 0)], []);
    assert.ok(!("releaseRevision" in noCluster[0]));
    const none = buildHistory([update(1, "v1.3.0", 0)], [], []);
    assert.strictEqual(none[0].releaseRevision, null);
  });

  it("never carries a secret config value into the targets", () => {
    assert.deepStrictEqual(Object.keys(targetsFromConfig(cfg("v1"))).sort(), ["chartVersion", "imageTags", "tier"]);
  });
});

describe("rollback: plan", () => {
  const current = targetsFromConfig(cfg("v1.5.0"));

  it("re-applies the chosen version's targets when the schema has not moved", () => {
    const plan = planRollback({ history: history(), toVersion: 2, current, currentSchemaVersion: "2" });
    assert.strictEqual(plan.refusal, undefined, plan.refusal);
    assert.strictEqual(plan.restore.needed, false);
    assert.deepStrictEqual(
      plan.changes.map((c) => `${c.key}:${c.from}->${c.to}`),
      ["imageTags.api:v1.5.0->v1.4.0", "imageTags.dashboard:v1.5.0->v1.4.0", "imageTags.orchestrator:v1.5.0->v1.4.0"],
    );
    assert.strictEqual(plan.steps.length, 4);
  });

  it("refuses to start the old application against a newer schema, naming the snapshot to restore", () => {
    const plan = planRollback({ history: history(), toVersion: 1, current, currentSchemaVersion: "2" });
    assert.ok(plan.refusal, "expected a refusal");
    assert.match(plan.refusal, /schema is at 2 but version 1 .* ran with 1/);
    assert.match(plan.refusal, /--restore-snapshot auto to restore \/snaps\/alexandria-ee-bbbb/);
    assert.strictEqual(plan.restore.needed, true);
    assert.strictEqual(plan.schema.moved, true);
  });

  it("with --restore-snapshot auto picks the snapshot taken before the upgrade being undone", () => {
    const plan = planRollback({
      history: history(),
      toVersion: 1,
      current,
      currentSchemaVersion: "2",
      restoreSnapshot: "auto",
    });
    assert.strictEqual(plan.refusal, undefined);
    assert.strictEqual(plan.restore.needed, true);
    assert.strictEqual(plan.restore.snapshot?.name, "alexandria-ee-bbbb");
  });

  it("restores a snapshot the operator names", () => {
    const named = snapshot("hand-picked", 5, "1");
    const plan = planRollback({
      history: history(),
      toVersion: 1,
      current,
      currentSchemaVersion: "2",
      restoreSnapshot: named,
    });
    assert.strictEqual(plan.restore.snapshot?.name, "hand-picked");
    assert.strictEqual(plan.refusal, undefined);
  });

  it("refuses when the schema cannot be compared, unless told to keep or restore the database", () => {
    const unknown = planRollback({ history: history(), toVersion: 1, current, currentSchemaVersion: undefined });
    assert.match(unknown.refusal ?? "", /cannot tell whether the schema moved .*no schemaVersionQuery/);
    const kept = planRollback({
      history: history(),
      toVersion: 1,
      current,
      currentSchemaVersion: undefined,
      keepDatabase: true,
    });
    assert.strictEqual(kept.refusal, undefined);
    assert.strictEqual(kept.restore.needed, false);
  });

  it("refuses an unknown version, listing the versions there are", () => {
    assert.match(
      planRollback({ history: history(), toVersion: 9, current }).refusal ?? "",
      /no version 9 \(versions: 1, 2, 3\)/,
    );
  });

  it("refuses to roll back to a failed update", () => {
    assert.match(
      planRollback({
        history: history(),
        toVersion: 3,
        current: targetsFromConfig(cfg("v1.4.0")),
        currentSchemaVersion: "2",
      }).refusal ?? "",
      /ended 'failed'/,
    );
  });

  it("auto with no later snapshot is refused", () => {
    const h = buildHistory([update(1, "v1.3.0", 0), update(2, "v1.4.0", 10)], []);
    assert.match(
      planRollback({ history: h, toVersion: 1, current, currentSchemaVersion: "2", restoreSnapshot: "auto" }).refusal ??
        "",
      /found no snapshot taken after version 1/,
    );
  });
});

describe("rollback: update numbering", () => {
  it("numbers a file backend's unnumbered updates oldest first, as Pulumi Cloud does", async () => {
    const { numberUpdates } = await import("../../src/lib/rollback/update-records");
    const newestFirst = [update(0, "v1.5.0", 20), update(0, "v1.4.0", 10), update(0, "v1.3.0", 0)] as never[];
    const numbered = numberUpdates(newestFirst);
    assert.deepStrictEqual(
      numbered.map((u) => [u.version, JSON.parse(u.config["release-runbook:imageTags"]!.value).api]),
      [
        [1, "v1.3.0"],
        [2, "v1.4.0"],
        [3, "v1.5.0"],
      ],
    );
  });

  it("keeps the versions a backend recorded", async () => {
    const { numberUpdates } = await import("../../src/lib/rollback/update-records");
    const numbered = numberUpdates([update(7, "v1.5.0", 20), update(6, "v1.4.0", 10)] as never[]);
    assert.deepStrictEqual(
      numbered.map((u) => u.version),
      [7, 6],
    );
  });
});

describe("rollback: Helm revisions as history reads them", () => {
  it("orders the storage Secrets by revision, with the time each was stored when the cluster gives it", () => {
    const secret = (version: string, status: string, creationTimestamp?: string) => ({
      metadata: {
        labels: { owner: "helm", name: "rel", version, status },
        ...(creationTimestamp ? { creationTimestamp } : {}),
      },
    });
    assert.deepStrictEqual(
      revisionsFromSecrets({
        items: [secret("2", "deployed", "2026-11-21T10:05:00Z"), secret("x", "deployed"), secret("1", "superseded")],
      }),
      [
        { revision: 1, status: "superseded" },
        { revision: 2, status: "deployed", createdAt: new Date("2026-11-21T10:05:00Z") },
      ],
    );
  });
});
