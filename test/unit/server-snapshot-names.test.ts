import assert from "node:assert/strict";
import { UsageError } from "../../src/lib/errors";
import { databasePattern, withoutExcluded } from "../../src/lib/snapshot/database-patterns";
import { databaseDumpDir } from "../../src/lib/snapshot/server-layout";

describe("server snapshot: --exclude-database patterns", () => {
  const matches = (pattern: string, name: string): boolean => databasePattern(pattern).test(name);

  it("matches whole names with * and ? as pg_dumpall does", () => {
    assert.ok(matches("rr_*", "rr_snapshot_1"));
    assert.ok(matches("rr_*", "rr_"));
    assert.ok(!matches("rr_*", "xrr_snapshot"));
    assert.ok(matches("db?", "db1"));
    assert.ok(!matches("db?", "db12"));
    assert.ok(matches("keycloak", "keycloak"));
    assert.ok(!matches("keycloak", "keycloak_old"));
  });

  it("folds unquoted letters to lower case and takes quoted text literally", () => {
    assert.ok(matches("KeyCloak", "keycloak"));
    assert.ok(!matches("KeyCloak", "KeyCloak"));
    assert.ok(matches('"KeyCloak"', "KeyCloak"));
    assert.ok(matches('"a*b"', "a*b"));
    assert.ok(!matches('"a*b"', "axxb"));
    assert.ok(matches('"say ""hi"""', 'say "hi"'));
  });

  it("treats regular expression characters as text", () => {
    assert.ok(matches("a.b", "a.b"));
    assert.ok(!matches("a.b", "axb"));
    assert.ok(matches("(x)+[y]", "(x)+[y]"));
  });

  it("refuses an empty pattern and an unterminated quote as bad usage", () => {
    assert.throws(() => databasePattern(""), UsageError);
    assert.throws(
      () => databasePattern('"abc'),
      (err: Error) => err instanceof UsageError && /unterminated/.test(err.message),
    );
  });

  it("keeps the names that match no pattern, in order", () => {
    const patterns = ["rr_*", "runbook_bench*"].map(databasePattern);
    assert.deepEqual(withoutExcluded(["postgres", "rr_a", "keycloak", "runbook_bench_1gb"], patterns), [
      "postgres",
      "keycloak",
    ]);
  });
});

describe("server snapshot: a database's dump directory", () => {
  it("is databases/<name> for a plain name", () => {
    assert.equal(databaseDumpDir("keycloak"), "databases/keycloak");
    assert.equal(databaseDumpDir("em-runtime_governance2"), "databases/em-runtime_governance2");
  });

  it("is a readable name plus a digest for names a path should not carry", () => {
    const odd = ["../etc", "a/b", "a b", "a_b", ".hidden", "Zürich", "x".repeat(120), "globals.sql", ""];
    const dirs = odd.map(databaseDumpDir);
    for (const dir of dirs) assert.match(dir, /^databases\/[A-Za-z0-9][A-Za-z0-9_-]*(\.[0-9a-f]{8})?$/, dir);
    assert.equal(new Set(dirs).size, odd.length, "two databases never share a directory");
    assert.match(databaseDumpDir("a/b"), /^databases\/a_b\.[0-9a-f]{8}$/);
    assert.notEqual(databaseDumpDir("a/b"), databaseDumpDir("a_b"));
  });
});
