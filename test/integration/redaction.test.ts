import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { dsnFor, runCli, tempDir } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";

describe("secrets in CLI errors (real PostgreSQL, a redis-cli stand-in)", function () {
  this.timeout(120_000);
  const databases = postgresSuite();
  let database: string;

  before(async () => {
    database = await databases.created("rr_redact");
  });

  it("a redis-cli failure quoting the Redis password reaches the operator redacted", async () => {
    const binDir = tempDir("quoting-redis-cli");
    // Servers and proxies do quote what they were sent; this one says the password back, as written and escaped.
    fs.writeFileSync(
      path.join(binDir, "redis-cli"),
      "#!/bin/bash\necho \"ERR invalid password '$REDISCLI_AUTH' (redis://:s3cr%40t-redis@127.0.0.1:16379)\" >&2\nexit 1\n",
      { mode: 0o755 },
    );
    const run = await runCli(["snapshot", "--out-dir", tempDir("redact-snap"), "--format", "custom", "--json"], {
      env: { PG_DSN: dsnFor(database), RUNBOOK_REDIS_URL: "redis://:s3cr%40t-redis@127.0.0.1:16379" },
      pathPrefix: [binDir],
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const said = run.stdout + run.stderr;
    assert.match(said, /redis-cli --rdb from 127\.0\.0\.1:16379 failed: ERR invalid password/);
    assert.ok(!said.includes("s3cr@t-redis"), said);
    assert.ok(!said.includes("s3cr%40t-redis"), said);
  });
});
