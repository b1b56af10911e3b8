import assert from "node:assert/strict";
import { installMocks, promiseOf } from "../support/pulumiMocks";

const recorded = installMocks();

describe("PostgresSnapshot: a protected stack's snapshot directory", () => {
  const build = async (name: string, extra: { protected?: boolean }) => {
    const { PostgresSnapshot } = await import("../../components/postgresSnapshot");
    const snapshot = new PostgresSnapshot(name, {
      targetVersions: { "image.api": "v1.4.0" },
      dir: "snapshots/unit",
      namePrefix: "alexandria-ee",
      pgDsn: "postgres://app:pw@db/app",
      ...extra,
    });
    await promiseOf(snapshot.result);
    const dump = recorded.filter((r) => r.type === "command:local:Command" && r.name === `${name}-dump`);
    assert.equal(dump.length, 1);
    return dump[0].inputs;
  };

  it("asks runbook snapshot to refuse an open directory when protected", async () => {
    const dump = await build("guarded", { protected: true });
    assert.match(dump.create, / --protected --json$/);
  });

  it("leaves it a warning otherwise", async () => {
    const dump = await build("relaxed", {});
    assert.doesNotMatch(dump.create, /--protected/);
  });
});
