import assert from "node:assert/strict";
import { decodeHelmReleaseRecord, encodeHelmReleaseRecord } from "../../src/lib/kube/helm-release-record";

describe("Helm's release record: hooks", () => {
  it("decodes the hooks Helm stores apart from the manifest", () => {
    const record = decodeHelmReleaseRecord(
      encodeHelmReleaseRecord({
        name: "alexandria-ee",
        version: 2,
        manifest: "",
        hooks: [
          {
            name: "alexandria-ee-migrate",
            kind: "Job",
            path: "alexandria-ee/templates/migrate-job.yaml",
            manifest: "apiVersion: batch/v1\nkind: Job\n",
            events: ["pre-upgrade"],
            last_run: {},
          },
        ],
      }),
    );
    assert.deepEqual(record.hooks, [
      {
        name: "alexandria-ee-migrate",
        kind: "Job",
        path: "alexandria-ee/templates/migrate-job.yaml",
        manifest: "apiVersion: batch/v1\nkind: Job\n",
        events: ["pre-upgrade"],
      },
    ]);
  });

  it("a record without hooks has none", () => {
    assert.deepEqual(decodeHelmReleaseRecord(encodeHelmReleaseRecord({ name: "x", manifest: "" })).hooks, []);
  });
});
