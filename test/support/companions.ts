/**
 * What the companion-backup tests share: test/services/redis.sh's server, a Secret as the Kubernetes API
 * returns it, and a second Redis started from a saved RDB to prove the file restores.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { realTool, tempDir } from "./postgres";

/** test/services/redis.sh's server. */
export const REDIS = { port: 16379, password: "redis-test-pw" } as const;
export const REDIS_URL = `redis://:${REDIS.password}@127.0.0.1:${REDIS.port}`;

export function redisCli(port: number, password: string | undefined, ...args: string[]): string {
  return execFileSync(realTool("redis-cli"), ["-h", "127.0.0.1", "-p", String(port), "--no-auth-warning", ...args], {
    env: { PATH: process.env.PATH, ...(password === undefined ? {} : { REDISCLI_AUTH: password }) },
    encoding: "utf8",
  }).trim();
}

/** Fails the suite with the command that starts the shared Redis when it does not answer. */
export function requireRedis(): void {
  try {
    if (redisCli(REDIS.port, REDIS.password, "ping") === "PONG") return;
  } catch {
    // reported below
  }
  throw new Error(`no Redis on 127.0.0.1:${REDIS.port}: run \`bash test/services/redis.sh start\` first`);
}

/** A Secret as the API server returns it, with the server-set fields a backup must not carry back. */
export function apiSecret(name: string, data: Record<string, string>, namespace = "em"): unknown {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name,
      namespace,
      uid: "0b7e3f0c-1111-2222-3333-444455556666",
      resourceVersion: "4711",
      creationTimestamp: "2026-01-01T00:00:00Z",
      managedFields: [{ manager: "kubectl", operation: "Update" }],
      labels: { "app.kubernetes.io/instance": "em-runtime" },
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ data }),
        "example.com/owner": "platform",
      },
    },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

/** Starts a second, empty-handed redis-server that loads `rdb` at start-up: proves the file restores. */
export async function startRedisFrom(rdb: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = tempDir("redis-restore");
  fs.copyFileSync(rdb, path.join(dir, "dump.rdb"));
  const port = 16390 + Math.floor(Math.random() * 100);
  const child: ChildProcess = spawn(
    realTool("redis-server"),
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dir,
      "--dbfilename",
      "dump.rdb",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    try {
      if (redisCli(port, undefined, "ping") === "PONG") break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
