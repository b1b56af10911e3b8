import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import { libpqEnvironment } from "../pg/libpq-env";
import { ToolExit, startPgTool, toolFailed } from "../pg/tools";
import { DirectoryDigestFollower } from "./digest-follower";
import { HashingStream, SnapshotDigest } from "./digest";
import { FILE_MODE } from "./durable-fs";
import type { SnapshotFormat } from "./layout";

/**
 * How long pg_dump waits for its ACCESS SHARE locks: a migration holding an exclusive lock must fail the
 * snapshot in bounded time rather than hang the upgrade.
 */
const LOCK_WAIT_TIMEOUT = "120s";

export interface DumpRequest {
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly format: SnapshotFormat;
  /** Parallel workers; directory format only. */
  readonly jobs: number;
  /** gzip level 0-9. */
  readonly compress: number;
  /** Must not exist yet: pg_dump creates the directory; the custom-format file is created here. */
  readonly partialPath: string;
  /** An exported snapshot (pg_export_snapshot) the dump is taken from; default: pg_dump's own. */
  readonly snapshotId?: string;
  readonly signal?: AbortSignal;
}

export interface DumpOutcome {
  readonly digest: SnapshotDigest;
  readonly dumpMs: number;
  /** Hashing wall time after pg_dump exited. */
  readonly hashMs: number;
}

/** Runs pg_dump into the partial path and hashes its output on the way; the caller removes the partial on error. */
export async function dumpDatabase(request: DumpRequest): Promise<DumpOutcome> {
  const args = [
    "--no-password", // fail instead of prompting on a terminal when PG_DSN has no password
    `--lock-wait-timeout=${LOCK_WAIT_TIMEOUT}`,
    `--format=${request.format}`,
    `--compress=${request.compress}`,
    ...(request.snapshotId === undefined ? [] : [`--snapshot=${request.snapshotId}`]),
  ];
  return request.format === "custom" ? dumpCustom(request, args) : dumpDirectory(request, args);
}

/**
 * Custom format goes through our stdout pipe: one pass writes and hashes it. (pg_dump writing to a pipe cannot
 * seek back to record data offsets in its TOC; pg_restore then reads the archive sequentially, which is
 * how the restore command reads a custom-format snapshot anyway.)
 */
async function dumpCustom(request: DumpRequest, args: string[]): Promise<DumpOutcome> {
  const started = Date.now();
  const running = startPgTool("pg_dump", args, {
    env: libpqEnvironment(request.connection, request.parentEnv),
    stdout: "pipe",
    signal: request.signal,
  });
  const hasher = new HashingStream();
  // flush: the file is fsynced before it is closed.
  const file = fs.createWriteStream(request.partialPath, { flags: "wx", mode: FILE_MODE, flush: true });
  const writing = pipeline(running.child.stdout!, hasher, file).catch((err: Error) => {
    running.child.kill("SIGTERM"); // pg_dump would block on a full pipe forever
    throw err;
  });
  const [written, exited] = await Promise.allSettled([writing, running.exited]);
  checkExit(request, exited);
  if (written.status === "rejected") {
    throw new OperationFailed(
      `writing ${request.partialPath} failed: ${(written.reason as Error).message}; check free space and permissions`,
    );
  }
  return { digest: hasher.digest(), dumpMs: Date.now() - started, hashMs: 0 };
}

async function dumpDirectory(request: DumpRequest, args: string[]): Promise<DumpOutcome> {
  const started = Date.now();
  const follower = new DirectoryDigestFollower(request.partialPath);
  const running = startPgTool("pg_dump", [...args, `--jobs=${request.jobs}`, `--file=${request.partialPath}`], {
    env: libpqEnvironment(request.connection, request.parentEnv),
    stdout: "ignore",
    signal: request.signal,
  });
  const [exited] = await Promise.allSettled([running.exited]);
  try {
    checkExit(request, exited);
  } catch (err) {
    await follower.abandon();
    throw err;
  }
  const dumped = Date.now();
  const digest = await follower.finish();
  return { digest, dumpMs: dumped - started, hashMs: Date.now() - dumped };
}

function checkExit(request: DumpRequest, exited: PromiseSettledResult<ToolExit>): void {
  if (request.signal?.aborted) throw request.signal.reason ?? new OperationFailed("the snapshot was interrupted");
  if (exited.status === "rejected") throw exited.reason;
  if (exited.value.code !== 0) throw toolFailed("dumping the database", "pg_dump", exited.value, request.connection);
}
