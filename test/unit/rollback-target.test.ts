import * as assert from "assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isHandedDown, LOCK_HANDOFF_ENV } from "../../src/lib/lock/handoff";
import { currentHolder } from "../../src/lib/lock/holder";
import { fullConfigChanges } from "../../src/lib/rollback/full-target";
import { applyConfigChanges, withConfigChanges } from "../../src/lib/rollback/stack-file";
import { differingPaths } from "../../src/lib/rollback/values-check";

describe("rollback: version N's complete config", () => {
  const now = {
    "release-runbook:imageTags": { value: '{"api":"v1.5.0","dashboard":"v1.5.0"}' },
    "release-runbook:siteValues": { value: '{"ingress":{"host":"new.example"}}' },
    "release-runbook:acknowledgeUpgrade": { value: "v1.5.0" },
    "release-runbook:tier": { value: "enterprise" },
    "release-runbook:pgDsn": { value: "postgres://u:rotated@h/db", secret: true },
  };
  const then = {
    "release-runbook:imageTags": { value: '{"dashboard":"v1.4.0","api":"v1.4.0"}' },
    "release-runbook:siteValues": { value: '{"ingress":{"host":"old.example"}}' },
    "release-runbook:tier": { value: "enterprise" },
    "release-runbook:imageRepositories": { value: '{"api":"r/api"}' },
    "release-runbook:pgDsn": { value: "[secret]", secret: true },
  };

  it("sets back every non-secret key (site values, repositories, removed keys), never a secret", () => {
    const changes = fullConfigChanges(now, then);
    assert.deepStrictEqual(
      changes.map((c) => [c.key, c.to]),
      [
        ["release-runbook:acknowledgeUpgrade", undefined],
        ["release-runbook:imageRepositories", '{"api":"r/api"}'],
        ["release-runbook:imageTags", '{"dashboard":"v1.4.0","api":"v1.4.0"}'],
        ["release-runbook:siteValues", '{"ingress":{"host":"old.example"}}'],
      ],
    );
  });

  it("object keys in another order are the same value", () => {
    assert.deepStrictEqual(
      fullConfigChanges(
        { "p:imageTags": { value: '{"a":"1","b":"2"}' } },
        { "p:imageTags": { value: '{"b":"2","a":"1"}' } },
      ),
      [],
    );
  });

  it("writes the changes into the stack file keeping comments and secure values; withConfigChanges puts it back byte for byte", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rb-stackfile-"));
    const file = path.join(dir, "Pulumi.prod.yaml");
    const original =
      "# prod: committed\nconfig:\n  release-runbook:tier: enterprise\n  release-runbook:acknowledgeUpgrade: v1.5.0\n" +
      "  release-runbook:pgDsn:\n    secure: v1:abc\n  release-runbook:imageTags:\n    api: v1.5.0\n";
    fs.writeFileSync(file, original);
    const changes = fullConfigChanges(
      {
        "release-runbook:imageTags": { value: '{"api":"v1.5.0"}' },
        "release-runbook:acknowledgeUpgrade": { value: "v1.5.0" },
      },
      { "release-runbook:imageTags": { value: '{"api":"v1.4.0"}' } },
    );
    let during = "";
    await withConfigChanges(file, changes, async () => {
      during = fs.readFileSync(file, "utf8");
    });
    assert.match(during, /# prod: committed/);
    assert.match(during, /imageTags:\n\s+api: v1\.4\.0/);
    assert.match(during, /secure: v1:abc/);
    assert.doesNotMatch(during, /acknowledgeUpgrade/);
    assert.strictEqual(fs.readFileSync(file, "utf8"), original);
    await applyConfigChanges(file, changes);
    assert.match(fs.readFileSync(file, "utf8"), /api: v1\.4\.0/);
    fs.rmSync(dir, { recursive: true });
  });

  it("names the values that differ from what a Helm revision recorded", () => {
    assert.deepStrictEqual(differingPaths({ a: { b: 1, c: [1] }, d: "x" }, { a: { b: 2, c: [1] }, e: true }), [
      "a.b",
      "d",
      "e",
    ]);
    assert.deepStrictEqual(differingPaths({ a: { b: 1 } }, { a: { b: 1 } }), []);
  });
});

describe("lock handoff: a rollback's own steps work under its lock, nobody else does", () => {
  const holder = { ...currentHolder("rollback --to 3"), pid: 4242 };
  const env = { [LOCK_HANDOFF_ENV]: "4242:alexandria" };

  it("lets in a descendant of the holder on this machine, for the same database", () => {
    assert.strictEqual(
      isHandedDown(env, holder, "alexandria", () => [100, 4242, 1]),
      true,
    );
  });

  it("refuses a process that is not a descendant, another database, another holder, or no handoff", () => {
    assert.strictEqual(
      isHandedDown(env, holder, "alexandria", () => [100, 200]),
      false,
    );
    assert.strictEqual(
      isHandedDown(env, holder, "other", () => [4242]),
      false,
    );
    assert.strictEqual(
      isHandedDown(env, { ...holder, pid: 5555 }, "alexandria", () => [5555]),
      false,
    );
    assert.strictEqual(
      isHandedDown({}, holder, "alexandria", () => [4242]),
      false,
    );
    assert.strictEqual(
      isHandedDown(env, { ...holder, host: "elsewhere" }, "alexandria", () => [4242]),
      false,
    );
  });
});
