import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { OperationFailed } from "../errors";
import { childEnvironment } from "../child-env";
import { RedisSource, describeRedisSource } from "./source";

/** Every RDB file starts with these bytes, then a four-digit format version. */
const RDB_MAGIC = "REDIS";
const PROCESS_TIMEOUT_MS = 30 * 60_000;

/**
 * Copies the whole Redis dataset into `file` as an RDB with `redis-cli --rdb`: the server forks, writes a
 * consistent point-in-time snapshot and streams it, as a replica's first sync does. The password reaches
 * redis-cli as REDISCLI_AUTH in its environment, never on its command line. The file is checked to be an RDB.
 */
export async function dumpRedis(
  source: RedisSource,
  file: string,
  parentEnv: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<void> {
  const argv = [
    "-h",
    source.host,
    "-p",
    String(source.port),
    ...(source.username === undefined ? [] : ["--user", source.username]),
    ...(source.tls ? ["--tls"] : []),
    "--no-auth-warning",
    "--rdb",
    file,
  ];
  // What any child inherits (PATH, HOME, locale...), then the password; no PG* variables, no RUNBOOK_*.
  const env = childEnvironment(parentEnv, { set: { REDISCLI_AUTH: source.password } });
  await new Promise<void>((resolve, reject) => {
    execFile(
      "redis-cli",
      argv,
      { env, encoding: "utf8", timeout: PROCESS_TIMEOUT_MS, killSignal: "SIGKILL", signal },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve();
          return;
        }
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          reject(
            new OperationFailed("redis-cli is not on PATH: install it (Debian/Ubuntu: apt-get install redis-tools)"),
          );
          return;
        }
        if (code === "ABORT_ERR") {
          reject(err);
          return;
        }
        const said = `${stderr}\n${stdout}`
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "");
        const reason = said[said.length - 1] ?? `exit code ${String(err.code)}`;
        const hint = /NOPERM|unknown command|not allowed|SYNC/i.test(reason)
          ? "; the Redis user needs permission for SYNC (managed Redis services often refuse it: back up with the provider's snapshots and leave redisUrl empty)"
          : /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(reason)
            ? "; check the password in the Redis URL"
            : "";
        reject(new OperationFailed(`redis-cli --rdb from ${describeRedisSource(source)} failed: ${reason}${hint}`));
      },
    );
  });
  const head = Buffer.alloc(RDB_MAGIC.length);
  const handle = await fs.open(file, "r");
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head.toString("latin1") !== RDB_MAGIC) {
    throw new OperationFailed(
      `redis-cli --rdb from ${describeRedisSource(source)} wrote a file that is not an RDB dump`,
    );
  }
}
