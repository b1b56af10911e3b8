import assert from "node:assert/strict";
import { describeHolder, holderIsOnThisHost, holderLabel, parseHolderLabel } from "../../src/lib/lock/holder";
import { lockKeyFor } from "../../src/lib/lock/lock-key";

describe("runbook lock holder label", () => {
  const since = new Date("2024-05-01T12:00:00Z");

  it("round-trips through application_name and fits its 63 bytes", () => {
    const holder = {
      command: "restore --resume",
      pid: 4242,
      since,
      user: "ops",
      host: "db-admin-1",
      hostTruncated: false,
    };
    const label = holderLabel(holder);
    assert.ok(Buffer.byteLength(label) <= 63, label);
    assert.deepEqual(parseHolderLabel(label), holder);
    assert.equal(
      describeHolder(holder),
      "runbook restore --resume by ops@db-admin-1 (pid 4242) since 2024-05-01T12:00:00Z",
    );
  });

  it("cuts a long host name short, keeps every other field, and still recognises the host", () => {
    const host = "bastion-eu-west-1-prod.internal.example.com";
    const label = holderLabel({ command: "snapshot", pid: 4194304, since, user: "ops", host, hostTruncated: false });
    assert.equal(Buffer.byteLength(label), 63);
    const parsed = parseHolderLabel(label)!;
    assert.equal(parsed.pid, 4194304);
    assert.equal(parsed.command, "snapshot");
    assert.deepEqual(parsed.since, since);
    assert.equal(parsed.hostTruncated, true);
    assert.ok(host.startsWith(parsed.host));
    assert.ok(holderIsOnThisHost(parsed, host));
    assert.ok(!holderIsOnThisHost(parsed, "bastion-us-east-1"));
    assert.match(describeHolder(parsed), /by ops@bastion-eu-west-1-\S*… \(pid 4194304\)/);
  });

  it("keeps application_name to printable ASCII, which is all the server keeps", () => {
    const label = holderLabel({ command: "restore", pid: 1, since, user: "zoë", host: "hôte", hostTruncated: false });
    assert.match(label, /^[\x21-\x7e ]+$/);
  });

  it("is not fooled by other application names", () => {
    assert.equal(parseHolderLabel("psql"), undefined);
    assert.equal(parseHolderLabel("runbook-lock:garbage"), undefined);
  });

  it("keys the lock by database name, in the runbook's own namespace, as non-negative 32-bit integers", () => {
    const a = lockKeyFor("appdb");
    assert.deepEqual(lockKeyFor("appdb"), a);
    assert.notEqual(lockKeyFor("appdb2").key, a.key);
    assert.ok(a.key >= 0 && a.key <= 0x7fffffff);
    assert.ok(a.namespace > 0 && a.namespace <= 0x7fffffff);
  });
});
