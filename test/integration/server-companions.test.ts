/**
 * `runbook snapshot --all-databases` with the single-database snapshot's companions: the Kubernetes Secrets (a
 * fake API server) and the Redis dataset (the shared test Redis), saved inside the server snapshot, listed in
 * its one manifest and committed by its one rename. The test PostgreSQL is shared with other suites: every
 * snapshot here covers only this run's own databases (--include-database).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FakeKubeApi, startFakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { REDIS, REDIS_URL, apiSecret, redisCli, requireRedis, startRedisFrom } from "../support/companions";
import { filesBelow, serverSnapshotSha256, sha256File } from "../support/digests";
import { dsnFor, query, recordedCalls, runCli, tempDir, toolWrapper } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";

const EM_SECRETS = "/api/v1/namespaces/em/secrets";
const SECRETS = "em-runtime-secrets,infisical-bootstrap-secret";
const JWT_KEY = "s3cr3t-jwt-srvc";

interface Companion {
  kind: string;
  path: string;
  sha256: string;
  bytes: number;
  namespace?: string;
  secrets?: string[];
  source?: string;
}

describe("runbook snapshot --all-databases with the Secrets and Redis (fake Kubernetes API, real Redis and PostgreSQL)", function () {
  this.timeout(180_000);
  const { created } = postgresSuite();
  const ownDatabases = `srvc_*_${process.pid}_*`;
  const marker = `srvc:${process.pid}:marker`;
  let governance: string;
  let kube: FakeKubeApi;

  before(async () => {
    requireRedis();
    governance = await created("srvc_gov");
    const keycloak = await created("srvc_kc");
    await query(
      governance,
      `create table alembic_version (version_num varchar(32) primary key); insert into alembic_version values ('9e1f00c0ffee')`,
    );
    await query(keycloak, "create table realm (id text primary key); insert into realm values ('master')");
    // The Redis server is shared: this run's own key, never a flush.
    redisCli(REDIS.port, REDIS.password, "set", marker, "kept-in-the-rdb");
  });
  after(() => {
    redisCli(REDIS.port, REDIS.password, "del", marker);
  });
  beforeEach(async () => {
    kube = await startFakeKubeApi({
      [`${EM_SECRETS}/em-runtime-secrets`]: apiSecret("em-runtime-secrets", {
        "base-url": "https://em.example",
        "jwt-key": JWT_KEY,
      }),
      [`${EM_SECRETS}/infisical-bootstrap-secret`]: apiSecret("infisical-bootstrap-secret", { token: "boot-tok" }),
    });
  });
  afterEach(() => kube.close());

  function serverSnapshot(outDir: string, extra: string[], env: NodeJS.ProcessEnv, pathPrefix: string[] = []) {
    const options = kube.cliOptions({ PG_DSN: dsnFor(governance), ...env });
    const args = ["snapshot", "--all-databases", "--out-dir", outDir, "--include-database", ownDatabases];
    return runCli([...args, "--name", "em-1", ...extra, "--json"], { env: options.env, pathPrefix });
  }

  it("saves the Secrets and the Redis dataset inside the snapshot, listed in its manifest with sha256 and size", async () => {
    const outDir = tempDir("srvc");
    const redisWrapper = toolWrapper("redis-cli");
    const run = await serverSnapshot(
      outDir,
      ["--kube-secrets", SECRETS, "--kube-namespace", "em"],
      { RUNBOOK_REDIS_URL: REDIS_URL },
      [redisWrapper.binDir],
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const snapshot = path.join(outDir, "em-1");
    const manifest = JSON.parse(fs.readFileSync(path.join(snapshot, "manifest.json"), "utf8"));
    const companions = manifest.companions as Companion[];
    assert.deepEqual(
      companions.map((c) => [c.kind, c.path]),
      [
        ["kubernetes-secrets", path.join(snapshot, "secrets.json")],
        ["redis", path.join(snapshot, "redis.rdb")],
      ],
    );
    assert.deepEqual(run.json!.companions, companions, "--json reports what the manifest lists");
    for (const c of companions) {
      assert.equal(sha256File(c.path), c.sha256, `${c.kind}: sha256`);
      assert.equal(fs.statSync(c.path).size, c.bytes, `${c.kind}: size`);
      assert.equal(fs.statSync(c.path).mode & 0o777, 0o600, `${c.path} must be private`);
    }
    // Committed as part of the one snapshot: the documented whole digest and size cover them.
    assert.equal(manifest.sha256, serverSnapshotSha256(snapshot));
    const sizes = filesBelow(snapshot)
      .filter((f) => f !== "manifest.json")
      .map((f) => fs.statSync(path.join(snapshot, f)).size);
    assert.equal(
      manifest.bytes,
      sizes.reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(fs.readdirSync(outDir), ["em-1"], "nothing beside the snapshot");
    assert.equal(typeof manifest.durations.companionsMs, "number");
    assert.deepEqual(
      (manifest.databases as { name: string; schemaVersion: string | null }[]).map((d) => d.name).sort(),
      fs.readdirSync(path.join(snapshot, "databases")).sort(),
    );
    assert.equal(
      (manifest.databases as { name: string; schemaVersion: string | null }[]).find((d) => d.name === governance)
        ?.schemaVersion,
      "9e1f00c0ffee",
    );

    const [secrets, redis] = companions;
    assert.deepEqual(secrets.secrets, ["em-runtime-secrets", "infisical-bootstrap-secret"]);
    assert.equal(secrets.namespace, "em");
    const list = JSON.parse(fs.readFileSync(secrets.path, "utf8"));
    assert.equal(list.kind, "List");
    assert.equal(Buffer.from(list.items[0].data["jwt-key"], "base64").toString(), JWT_KEY);
    assert.equal(list.items[0].metadata.resourceVersion, undefined, "server-set fields are dropped");
    assert.equal(redis.source, "127.0.0.1:16379");

    // No Secret value nor the Redis password reaches the output, the manifest or redis-cli's argv.
    const encoded = Buffer.from(JWT_KEY).toString("base64");
    const manifestText = fs.readFileSync(path.join(snapshot, "manifest.json"), "utf8");
    for (const text of [run.stdout, run.stderr, manifestText]) {
      for (const secret of [JWT_KEY, encoded, REDIS.password]) assert.ok(!text.includes(secret), `${secret} leaked`);
    }
    const calls = recordedCalls(redisWrapper.log);
    assert.equal(calls.length, 1);
    assert.ok(!calls[0].argv.some((a) => a.includes(REDIS.password)), calls[0].argv.join(" "));
    assert.ok(calls[0].envNames.includes("REDISCLI_AUTH"));

    // The RDB is the dataset: a fresh Redis started from it has this run's key.
    const copy = await startRedisFrom(redis.path);
    try {
      assert.equal(redisCli(copy.port, undefined, "get", marker), "kept-in-the-rdb");
    } finally {
      await copy.stop();
    }

    // The text report names what was saved with it, never a value.
    const text = await runCli(["snapshot", "--all-databases", "--out-dir", outDir, "--name", "em-1"], {
      env: kube.cliOptions({ PG_DSN: dsnFor(governance) }).env,
    });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /also: +Secrets em-runtime-secrets, infisical-bootstrap-secret of em → .*secrets\.json/);

    // Taken once: the same name is reported, nothing read again; one more Secret than it holds is refused.
    const again = await serverSnapshot(outDir, ["--kube-secrets", SECRETS, "--kube-namespace", "em"], {
      RUNBOOK_REDIS_URL: REDIS_URL,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json!.reused, true);
    assert.equal(kube.requests().length, 2, "the Secrets were read again");
    const more = await serverSnapshot(
      outDir,
      ["--kube-secrets", `${SECRETS},extra-secret`, "--kube-namespace", "em"],
      {},
    );
    assert.equal(more.code, 1);
    assert.match(more.stderr, /snapshot em-1 already exists but its Secrets backup lacks extra-secret/);
  });

  it("a Secret that cannot be read fails the snapshot before any database is dumped, and nothing is committed", async () => {
    kube.answer(`${EM_SECRETS}/infisical-bootstrap-secret`, { kind: "Status", message: "etcd timeout" }, 500);
    const outDir = tempDir("srvc-secret-fails");
    const pgDump = toolWrapper("pg_dump");
    const run = await serverSnapshot(outDir, ["--kube-secrets", SECRETS, "--kube-namespace", "em"], {}, [
      pgDump.binDir,
    ]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /cannot back up secret infisical-bootstrap-secret/);
    assert.deepEqual(fs.readdirSync(outDir), [], "no snapshot, no partial, no Secrets file");
    const dumps = recordedCalls(pgDump.log).filter((c) => !c.argv.includes("--version"));
    assert.deepEqual(dumps, [], "a database was dumped before the Secrets were read");
    assert.ok(!run.stderr.includes(JWT_KEY));

    const missing = await serverSnapshot(
      outDir,
      ["--kube-secrets", "em-runtime-secrets,gone", "--kube-namespace", "em"],
      {},
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /secret gone not found in namespace em/);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it("a Redis that refuses the password fails the snapshot without printing it, and nothing is committed", async () => {
    const outDir = tempDir("srvc-redis-fails");
    const wrong = "not-the-password-5e2";
    const run = await serverSnapshot(outDir, ["--kube-secrets", SECRETS, "--kube-namespace", "em"], {
      RUNBOOK_REDIS_URL: `redis://:${wrong}@127.0.0.1:${REDIS.port}`,
    });
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /redis-cli --rdb from 127\.0\.0\.1:16379 failed/);
    assert.ok(!run.stderr.includes(wrong) && !run.stdout.includes(wrong));
    assert.deepEqual(fs.readdirSync(outDir), []);
  });
});
