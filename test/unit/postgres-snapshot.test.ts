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

describe("PostgresSnapshot: the snapshot store", () => {
  it("passes the store as flags and its credentials in the command's environment only", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const { PostgresSnapshot } = await import("../../components/postgresSnapshot");
    const snapshot = new PostgresSnapshot("stored", {
      targetVersions: { "image.api": "v1.4.0" },
      dir: "snapshots/unit",
      namePrefix: "alexandria-ee",
      pgDsn: "postgres://app:pw@db/app",
      store: {
        settings: {
          kind: "bucket",
          url: "s3://acme-runbook/prod/",
          location: { bucket: "acme-runbook", prefix: "prod/" },
          endpoint: "http://127.0.0.1:28610",
        },
        accessKeyId: pulumi.secret("AKIDUNIT"),
        secretAccessKey: pulumi.secret("unit-secret-key"),
      },
    });
    await promiseOf(snapshot.result);
    const dump = recorded.find((r) => r.type === "command:local:Command" && r.name === "stored-dump")!.inputs;
    assert.match(dump.create, / --store "\$RUNBOOK_ARG_STORE" --store-endpoint "\$RUNBOOK_ARG_STORE_ENDPOINT" /);
    assert.doesNotMatch(dump.create, /--store-region|AKIDUNIT|unit-secret-key/);
    // A secret input makes the whole environment a secret in the state.
    const SECRET_SIG = "4dabf18193072939515e22adb298388d";
    assert.equal(dump.environment[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
    const environment = dump.environment.value as Record<string, string>;
    assert.equal(environment.RUNBOOK_ARG_STORE, "s3://acme-runbook/prod/");
    assert.equal(environment.RUNBOOK_ARG_STORE_ENDPOINT, "http://127.0.0.1:28610");
    assert.equal(environment.RUNBOOK_STORE_ACCESS_KEY_ID, "AKIDUNIT");
    assert.equal(environment.RUNBOOK_STORE_SECRET_ACCESS_KEY, "unit-secret-key");
  });
});
