import assert from "node:assert/strict";
import { parsePgDsn } from "../../src/lib/pg/connection";
import { evaluateDatabaseTls } from "../../src/lib/pg/tls-policy";

const at = (query: string) => parsePgDsn(`postgres://app:pw@db.internal:5432/app${query}`);

describe("database TLS policy", () => {
  it("a protected stack accepts only verify-full", () => {
    assert.deepEqual(evaluateDatabaseTls(at("?sslmode=verify-full"), { protectedStack: true }), { allowed: true });
    for (const mode of ["disable", "allow", "prefer", "require", "verify-ca"] as const) {
      const verdict = evaluateDatabaseTls({ ...at(""), sslmode: mode }, { protectedStack: true });
      assert.equal(verdict.allowed, false, mode);
      assert.match(verdict.allowed ? "" : verdict.refusal, new RegExp(`sslmode=${mode}\\b`));
    }
  });

  it("treats a missing sslmode as libpq's prefer", () => {
    const verdict = evaluateDatabaseTls(at(""), { protectedStack: true });
    assert.equal(verdict.allowed, false);
    assert.match(verdict.allowed ? "" : verdict.refusal, /names no sslmode, so libpq uses prefer/);
  });

  it("with a reason, allows with a warning that quotes it", () => {
    const verdict = evaluateDatabaseTls(at("?sslmode=require"), {
      protectedStack: true,
      allowUnverifiedReason: "proxy verifies",
    });
    assert.deepEqual(verdict.allowed, true);
    assert.match(
      verdict.allowed ? (verdict.warning ?? "") : "",
      /sslmode=require.*allowUnverifiedDatabaseTls: proxy verifies/,
    );
  });

  it("does not apply to unprotected stacks or to a Unix socket", () => {
    assert.deepEqual(evaluateDatabaseTls(at("?sslmode=disable"), { protectedStack: false }), { allowed: true });
    const socket = parsePgDsn("postgres://app:pw@%2Fvar%2Frun%2Fpostgresql/app");
    assert.deepEqual(evaluateDatabaseTls(socket, { protectedStack: true }), { allowed: true });
  });

  it("never quotes the password", () => {
    const verdict = evaluateDatabaseTls(at("?sslmode=require"), { protectedStack: true });
    assert.ok(!(verdict.allowed ? "" : verdict.refusal).includes("pw@"));
  });
});
