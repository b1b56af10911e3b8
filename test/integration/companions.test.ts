import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FakeKubeApi, startFakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { REDIS, REDIS_URL, apiSecret, redisCli, requireRedis, startRedisFrom } from "../support/companions";
import { sha256File } from "../support/digests";
import { dsnFor, recordedCalls, runCli, tempDir, toolWrapper } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";

/** Where the Secrets of namespace em are read. */
const EM_SECRETS = "/api/v1/namespaces/em/secrets";

describe("runbook snapshot with companion backups: Kubernetes Secrets (fake API server) and Redis (real server)", function () {
  this.timeout(120_000);
  const { seeded } = postgresSuite();
  let database: string;
  let kube: FakeKubeApi;

  before(async function () {
    requireRedis();
    database = await seeded("rr_companions");
  });
  beforeEach(async () => {
    redisCli(REDIS.port, REDIS.password, "flushall");
    redisCli(REDIS.port, REDIS.password, "set", "session:1", "alice");
    redisCli(REDIS.port, REDIS.password, "hset", "queue:meta", "depth", "42");
    redisCli(REDIS.port, REDIS.password, "rpush", "jobs", "a", "b", "c");
    // missing-secret is not served: the fake answers 404 with a Status, as the API server does.
    kube = await startFakeKubeApi({
      [`${EM_SECRETS}/em-runtime-secrets`]: apiSecret("em-runtime-secrets", {
        "base-url": "https://em.example",
        "jwt-key": "s3cr3t-jwt",
      }),
      [`${EM_SECRETS}/infisical-bootstrap-secret`]: apiSecret("infisical-bootstrap-secret", {
        token: "bootstrap-token",
      }),
    });
  });
  afterEach(() => kube.close());

  function snapshot(outDir: string, extra: string[], env: NodeJS.ProcessEnv, pathPrefix: string[] = []) {
    const options = kube.cliOptions({ PG_DSN: dsnFor(database), ...env });
    return runCli(
      ["snapshot", "--out-dir", outDir, "--name", "em-runtime-1", "--format", "custom", ...extra, "--json"],
      { env: options.env, pathPrefix },
    );
  }

  it("saves the named Secrets and the Redis dataset next to the dump, recorded in the manifest, and both restore", async () => {
    const outDir = tempDir("companions");
    const wrapper = toolWrapper("redis-cli");
    const run = await snapshot(
      outDir,
      ["--kube-secrets", "em-runtime-secrets,infisical-bootstrap-secret", "--kube-namespace", "em"],
      { RUNBOOK_REDIS_URL: REDIS_URL },
      [wrapper.binDir],
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const companions = run.json!.companions as {
      kind: string;
      path: string;
      sha256: string;
      bytes: number;
      secrets?: string[];
      source?: string;
    }[];
    assert.deepEqual(
      companions.map((c) => c.kind),
      ["kubernetes-secrets", "redis"],
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, "em-runtime-1.manifest.json"), "utf8"));
    assert.deepEqual(manifest.companions, companions);

    const [secrets, redis] = companions;
    assert.equal(secrets.path, path.join(outDir, "em-runtime-1.secrets.json"));
    assert.equal(redis.path, path.join(outDir, "em-runtime-1.redis.rdb"));
    for (const c of companions) {
      assert.equal(fs.statSync(c.path).mode & 0o777, 0o600, `${c.path} must be private`);
      assert.equal(sha256File(c.path), c.sha256);
      assert.equal(fs.statSync(c.path).size, c.bytes);
    }
    assert.equal(redis.source, "127.0.0.1:16379");

    // The Secrets file is a List kubectl can apply: data intact, server-set fields gone.
    const list = JSON.parse(fs.readFileSync(secrets.path, "utf8"));
    assert.equal(list.kind, "List");
    assert.deepEqual(
      list.items.map((i: { metadata: { name: string } }) => i.metadata.name),
      ["em-runtime-secrets", "infisical-bootstrap-secret"],
    );
    const first = list.items[0];
    assert.equal(Buffer.from(first.data["jwt-key"], "base64").toString(), "s3cr3t-jwt");
    assert.equal(first.metadata.namespace, "em");
    assert.equal(first.type, "Opaque");
    for (const field of ["uid", "resourceVersion", "creationTimestamp", "managedFields"])
      assert.equal(first.metadata[field], undefined, field);
    assert.deepEqual(first.metadata.annotations, { "example.com/owner": "platform" });
    assert.deepEqual(
      kube.requests().map((r) => [r.method, r.path, r.query]),
      [
        ["GET", `${EM_SECRETS}/em-runtime-secrets`, {}],
        ["GET", `${EM_SECRETS}/infisical-bootstrap-secret`, {}],
      ],
    );

    // redis-cli got the password in its environment only; nothing printed it.
    const calls = recordedCalls(wrapper.log);
    assert.equal(calls.length, 1);
    assert.ok(calls[0].argv.includes("--rdb"));
    assert.ok(!calls[0].argv.some((a) => a.includes(REDIS.password)), `password on argv: ${calls[0].argv.join(" ")}`);
    assert.ok(calls[0].envNames.includes("REDISCLI_AUTH"));
    assert.ok(!run.stdout.includes(REDIS.password) && !run.stderr.includes(REDIS.password));
    assert.ok(!fs.readFileSync(path.join(outDir, "em-runtime-1.manifest.json"), "utf8").includes(REDIS.password));

    // The RDB loads into a fresh server with the same data.
    redisCli(REDIS.port, REDIS.password, "set", "written-after", "snapshot");
    const copy = await startRedisFrom(redis.path);
    try {
      assert.equal(redisCli(copy.port, undefined, "get", "session:1"), "alice");
      assert.equal(redisCli(copy.port, undefined, "hget", "queue:meta", "depth"), "42");
      assert.equal(redisCli(copy.port, undefined, "lrange", "jobs", "0", "-1"), "a\nb\nc");
      assert.equal(redisCli(copy.port, undefined, "exists", "written-after"), "0");
    } finally {
      await copy.stop();
    }

    // restore puts back the database only, and says how to put back the rest.
    const plan = await runCli(["restore", "--snapshot", path.join(outDir, "em-runtime-1.dump")], {
      env: { PG_DSN: dsnFor(database) },
    });
    assert.equal(plan.code, 2, "without --yes restore only describes itself");
    assert.match(
      plan.stderr,
      new RegExp(
        `not restored: Secrets em-runtime-secrets, infisical-bootstrap-secret .*kubectl apply -n em -f ${secrets.path.replace(/[.]/g, "\\.")}`,
      ),
    );
    assert.match(
      plan.stderr,
      /not restored: Redis \(127\.0\.0\.1:16379\) was saved with this snapshot as .*em-runtime-1\.redis\.rdb/,
    );

    // Once per target: a second run finds the snapshot and takes nothing again.
    const again = await snapshot(
      outDir,
      ["--kube-secrets", "em-runtime-secrets,infisical-bootstrap-secret", "--kube-namespace", "em"],
      { RUNBOOK_REDIS_URL: REDIS_URL },
      [wrapper.binDir],
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json!.reused, true);
    assert.deepEqual(again.json!.companions, companions);
    assert.equal(recordedCalls(wrapper.log).length, 1, "redis was dumped again");
    assert.equal(kube.requests().length, 2, "the Secrets were read again");
  });

  it("fails before dumping when a Secret is missing, naming it, and leaves nothing behind", async () => {
    const outDir = tempDir("companions-missing");
    const run = await snapshot(
      outDir,
      ["--kube-secrets", "em-runtime-secrets,missing-secret", "--kube-namespace", "em"],
      {},
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /secret missing-secret not found in namespace em/);
    assert.match(run.stderr, /backupSecrets/);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("fails on a wrong Redis password without printing it, and leaves nothing behind", async () => {
    const outDir = tempDir("companions-redis-auth");
    const wrong = "not-the-password-9c1";
    const run = await snapshot(outDir, [], { RUNBOOK_REDIS_URL: `redis://:${wrong}@127.0.0.1:${REDIS.port}` });
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /redis-cli --rdb from 127\.0\.0\.1:16379 failed/);
    assert.ok(!run.stderr.includes(wrong) && !run.stdout.includes(wrong));
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("refuses to reuse a snapshot that lacks a backup asked for now", async () => {
    const outDir = tempDir("companions-reuse");
    assert.equal((await snapshot(outDir, [], {})).code, 0);
    const run = await snapshot(outDir, ["--kube-secrets", "em-runtime-secrets", "--kube-namespace", "em"], {});
    assert.equal(run.code, 1);
    assert.match(run.stderr, /already exists but was taken without the kubernetes-secrets backup asked for now/);
  });

  it("rejects bad usage with exit 2 and never echoes a Redis URL", async () => {
    const outDir = tempDir("companions-usage");
    const noNamespace = await snapshot(outDir, ["--kube-secrets", "em-runtime-secrets"], {});
    assert.equal(noNamespace.code, 2);
    assert.match(noNamespace.stderr, /--kube-secrets needs --kube-namespace/);
    const badName = await snapshot(outDir, ["--kube-secrets", "Bad_Name", "--kube-namespace", "em"], {});
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /'Bad_Name' is not a Secret name/);
    const badUrl = await snapshot(outDir, [], { RUNBOOK_REDIS_URL: "http://:hunter2-pw@127.0.0.1:1" });
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /RUNBOOK_REDIS_URL has scheme 'http'/);
    assert.ok(!badUrl.stderr.includes("hunter2-pw"));
    assert.deepEqual(fs.readdirSync(outDir), []);
  });
});
