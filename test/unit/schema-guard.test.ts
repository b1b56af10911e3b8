import * as assert from "assert";
import { checkSchemaGuard, RecordedSchema } from "../../src/lib/preflight/schema-guard";

describe("schema guard: never an older application on a newer schema", () => {
  // v1.4.0 served with schema 1 (the snapshot before upgrading away from it), then v1.5.0 migrated to 2.
  const recorded: RecordedSchema[] = [
    { snapshot: "/s/a-1", createdAt: "2026-11-01T00:00:00Z", schemaVersion: "1", fromApiTag: "v1.4.0" },
    { snapshot: "/s/a-2", createdAt: "2026-11-02T00:00:00Z", schemaVersion: "2", fromApiTag: "v1.5.0" },
  ];

  it("refuses a git-revert-style downgrade across a migration, naming the schemas and the restore", () => {
    const c = checkSchemaGuard({ targetApiTag: "v1.4.0", liveSchema: "2", recorded, stack: "prod" });
    assert.strictEqual(c.ok, false);
    assert.match(c.detail, /live schema is 2, newer than 1, the schema v1\.4\.0 last ran with/);
    assert.match(c.detail, /runbook rollback --stack prod .* --restore-snapshot \/s\/a-1/);
  });

  it("passes a target on the schema it ran with, a target that never ran here, and skips without a schema", () => {
    assert.strictEqual(checkSchemaGuard({ targetApiTag: "v1.5.0", liveSchema: "2", recorded }).ok, true);
    assert.strictEqual(checkSchemaGuard({ targetApiTag: "v1.6.0", liveSchema: "2", recorded }).ok, true);
    assert.strictEqual(checkSchemaGuard({ targetApiTag: "v1.4.0", liveSchema: "1", recorded }).ok, true);
    assert.strictEqual(checkSchemaGuard({ targetApiTag: "v1.4.0", liveSchema: null, recorded }).skipped, true);
  });

  it("Alembic ids cannot be ordered: passes with a warning rather than block a re-upgrade", () => {
    const alembic: RecordedSchema[] = [{ ...recorded[0], schemaVersion: "a1b2c3" }];
    const c = checkSchemaGuard({ targetApiTag: "v1.4.0", liveSchema: "d4e5f6", recorded: alembic });
    assert.strictEqual(c.ok, true);
    assert.ok(c.warning);
  });
});
