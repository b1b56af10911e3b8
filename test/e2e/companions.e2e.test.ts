import * as assert from "assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  createStack,
  filesHolding,
  helmRevisions,
  kubectl,
  makeProjectCopy,
  manifests,
  removeProjectCopy,
  requireSandbox,
  resetSandbox,
  runbook,
  setFixtureMode,
  setTags,
  up,
} from "./support/project";

/** test/services/redis.sh's server, which the sandbox starts. */
const REDIS_PASSWORD = "redis-test-pw";
const REDIS_URL = `redis://:${REDIS_PASSWORD}@127.0.0.1:16379`;
const LICENSE_SECRET = "alexandria-license";

function redisCli(...args: string[]): string {
  return execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", "16379", "--no-auth-warning", ...args], {
    env: { PATH: process.env.PATH, REDISCLI_AUTH: REDIS_PASSWORD },
    encoding: "utf8",
  }).trim();
}

function secretValue(name: string, key: string): string {
  return Buffer.from(kubectl("get", "secret", name, "-o", `jsonpath={.data.${key}}`), "base64").toString();
}

describe("e2e: Secrets and Redis saved with the snapshot, through the real engine and API server", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let stack: Stack;

  before(async () => {
    requireSandbox();
    resetSandbox();
    try {
      assert.strictEqual(redisCli("ping"), "PONG");
    } catch {
      assert.fail("no Redis on 127.0.0.1:16379: the sandbox starts it (`bash test/services/redis.sh start`)");
    }
    redisCli("flushall");
    redisCli("set", "session:e2e", "before-upgrade");
    kubectl("delete", "secret", LICENSE_SECRET, "--ignore-not-found");
    kubectl("create", "secret", "generic", LICENSE_SECRET, "--from-literal=key=lic-v1", "--from-literal=seats=50");
    project = makeProjectCopy();
    await setFixtureMode({ adminExists: false, tier: "starter" });
    stack = await createStack(project, "e2e-companions", {
      tags: "v1.4.0",
      extra: { backupSecrets: JSON.stringify([LICENSE_SECRET, "alexandria-db"]) },
    });
    await stack.setConfig("redisUrl", { value: REDIS_URL, secret: true });
  });

  after(() => {
    removeProjectCopy(project);
    try {
      kubectl("delete", "secret", LICENSE_SECRET, "--ignore-not-found");
    } catch {
      // the sandbox may be gone already
    }
  });

  it("up saves the Secrets and Redis next to the dump, listed in its manifest; the password stays encrypted", async () => {
    const run = await up(stack);
    assert.ifError(run.error);
    await setFixtureMode({ adminExists: true });
    const [manifestFile] = manifests(project.snapshots);
    const manifest = JSON.parse(fs.readFileSync(path.join(project.snapshots, manifestFile), "utf8"));
    assert.deepStrictEqual(
      manifest.companions.map((c: { kind: string; path: string }) => [c.kind, path.basename(c.path)]),
      [
        ["kubernetes-secrets", `${manifest.name}.secrets.json`],
        ["redis", `${manifest.name}.redis.rdb`],
      ],
    );
    for (const c of manifest.companions) assert.strictEqual(fs.statSync(c.path).mode & 0o777, 0o600);
    assert.deepStrictEqual(manifest.companions[0].secrets, [LICENSE_SECRET, "alexandria-db"]);
    assert.deepStrictEqual(filesHolding(project, REDIS_PASSWORD), [], "the Redis password is in the state in clear");
    assert.ok(!run.output.includes(REDIS_PASSWORD));
  });

  it("history names the Secrets and Redis files saved with the update's snapshot", () => {
    const history = runbook(project, ["history", "--stack", "e2e-companions"]);
    assert.strictEqual(history.status, 0, history.stderr);
    assert.match(history.stdout, /with kubernetes-secrets \S+\.secrets\.json/);
    assert.match(history.stdout, /with redis \S+\.redis\.rdb/);
  });

  it("the saved Secrets apply back to the real API server", async () => {
    const [manifestFile] = manifests(project.snapshots);
    const manifest = JSON.parse(fs.readFileSync(path.join(project.snapshots, manifestFile), "utf8"));
    kubectl("delete", "secret", LICENSE_SECRET);
    kubectl("apply", "-f", manifest.companions[0].path);
    assert.strictEqual(secretValue(LICENSE_SECRET, "key"), "lic-v1");
    assert.strictEqual(secretValue(LICENSE_SECRET, "seats"), "50");
  });

  it("a Secret that is gone stops the next upgrade before its dump and before the release", async () => {
    await stack.setConfig("backupSecrets", { value: JSON.stringify([LICENSE_SECRET, "no-such-secret"]) });
    await setTags(stack, "v1.4.1");
    const before = manifests(project.snapshots);
    const run = await up(stack);
    assert.ok(run.error, "up must fail");
    assert.match(run.output, /secret no-such-secret not found in namespace alexandria/);
    assert.deepStrictEqual(manifests(project.snapshots), before, "no new snapshot");
    assert.deepStrictEqual(
      fs.readdirSync(project.snapshots).filter((f) => f.startsWith(".")),
      [],
      "no partial files left",
    );
    assert.deepStrictEqual(helmRevisions(), [{ revision: 1, status: "deployed" }], "the release must not change");
  });
});
