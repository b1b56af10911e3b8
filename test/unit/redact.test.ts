import assert from "node:assert/strict";
import { redactSecrets, SECRET_ENV_VARS } from "../../src/lib/redact";
import { REDIS_URL_ENV } from "../../src/lib/redis/source";

describe("redactSecrets", () => {
  it("lists the Redis URL among the secret variables", () => {
    assert.ok(SECRET_ENV_VARS.includes(REDIS_URL_ENV));
    assert.ok(SECRET_ENV_VARS.includes("REGISTRY_PASSWORD"));
  });

  it("redacts the Redis URL and its password, decoded and percent-encoded", () => {
    const env = { [REDIS_URL_ENV]: "redis://backup:p%40ss%3Aw0rd@redis.internal:6380" };
    const said = [
      "connecting to redis://backup:p%40ss%3Aw0rd@redis.internal:6380 failed",
      "AUTH p@ss:w0rd: WRONGPASS",
      "retrying with p%40ss%3Aw0rd",
    ].join("\n");
    const out = redactSecrets(said, env);
    assert.ok(!out.includes("p@ss:w0rd"), out);
    assert.ok(!out.includes("p%40ss%3Aw0rd"), out);
    assert.match(out, /WRONGPASS/);
  });

  it("redacts a Redis password that needs no escaping, and one with only a password", () => {
    const out = redactSecrets("ERR invalid password 'redis-test-pw'", {
      [REDIS_URL_ENV]: "rediss://:redis-test-pw@127.0.0.1:16379",
    });
    assert.equal(out, "ERR invalid password '***'");
  });

  it("redacts the registry password, also as it appears percent-encoded in a URL", () => {
    const env = { REGISTRY_PASSWORD: "tok/en+1=" };
    const out = redactSecrets("GET https://user:tok%2Fen%2B1%3D@registry.example/v2/ with tok/en+1= failed", env);
    assert.ok(!out.includes("tok/en+1="), out);
    assert.ok(!out.includes("tok%2Fen%2B1%3D"), out);
  });

  it("still redacts the DSN's password in both forms", () => {
    const env = { PG_DSN: "postgres://app:s3cr%3Ft@db:5432/app" };
    const out = redactSecrets("password s3cr?t rejected; dsn had s3cr%3Ft", env);
    assert.equal(out, "password *** rejected; dsn had ***");
  });
});
