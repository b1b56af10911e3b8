import { ChildProcess, spawn } from "node:child_process";
import { OperationFailed } from "../errors";
import { redactSecrets } from "../redact";
import { PgConnection, secretsOf } from "./connection";
import { libpqHint } from "./errors";
import { majorOfVersion } from "./versions";

export type PgTool = "pg_dump" | "pg_dumpall" | "pg_restore" | "psql";

export interface ToolExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The end of what the tool wrote on stderr (bounded: a failing restore can print a lot). */
  readonly stderr: string;
}

export interface RunningTool {
  readonly child: ChildProcess;
  /** Settles when the tool has exited and its stderr is drained; rejects only when it could not start. */
  readonly exited: Promise<ToolExit>;
}

const STDERR_KEEP_BYTES = 16 * 1024;
const STDERR_GRACE_MS = 1000;

/**
 * Starts a PostgreSQL client tool with an argv array (never a shell) and an environment built by
 * libpqEnvironment, so that connection facts and the password travel outside the command line.
 */
export function startPgTool(
  tool: PgTool,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; stdout: "ignore" | "pipe"; signal?: AbortSignal },
): RunningTool {
  const child = spawn(tool, args, {
    env: options.env,
    stdio: ["ignore", options.stdout, "pipe"],
    signal: options.signal,
    shell: false,
  });
  const exited = new Promise<ToolExit>((resolve, reject) => {
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP_BYTES);
    });
    child.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") reject(toolMissing(tool));
      else if (err.name !== "AbortError") reject(new OperationFailed(`cannot run ${tool}: ${err.message}`));
    });
    // 'close' waits for stderr to drain; a grandchild that inherited it (a wrapper script's helper) could hold it
    // open long after the tool exited, so 'exit' starts a short grace period instead of an unbounded wait.
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => resolve({ code, signal, stderr });
    child.once("exit", (code, signal) => setTimeout(() => settle(code, signal), STDERR_GRACE_MS).unref());
    child.once("close", settle);
  });
  return { child, exited };
}

/** Runs a tool to completion, collecting stdout as text (for short outputs such as --version or --list). */
export async function runPgTool(
  tool: PgTool,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<ToolExit & { stdout: string }> {
  const running = startPgTool(tool, args, { ...options, stdout: "pipe" });
  const chunks: Buffer[] = [];
  running.child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
  const exit = await running.exited;
  return { ...exit, stdout: Buffer.concat(chunks).toString("utf8") };
}

export interface ToolVersion {
  /** e.g. "15.4" */
  readonly version: string;
  /** e.g. "15" */
  readonly major: string;
}

/** The version a client tool reports, e.g. `pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)` → 15.4. */
export async function pgToolVersion(tool: PgTool, env: NodeJS.ProcessEnv): Promise<ToolVersion> {
  const run = await runPgTool(tool, ["--version"], { env });
  const match = /\(PostgreSQL\)\s+(\d+(?:\.\d+)*)/.exec(run.stdout);
  const major = match === null ? undefined : majorOfVersion(match[1]);
  if (run.code !== 0 || match === null || major === undefined) {
    throw new OperationFailed(
      `'${tool} --version' did not report a PostgreSQL version (exit ${run.code}): ${(run.stdout + run.stderr).trim()}; ` +
        `check that ${tool} on PATH is PostgreSQL's client tool`,
    );
  }
  return { version: match[1], major };
}

/** An OperationFailed for a tool that exited non-zero: what failed, the tool's own words, and a fix. */
export function toolFailed(what: string, tool: PgTool, exit: ToolExit, connection: PgConnection): OperationFailed {
  const how = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
  const said = exit.stderr.trim().split("\n").slice(-6).join("\n").trim();
  const hint = libpqHint(said);
  const text = `${what}: ${tool} failed (${how})${said === "" ? "" : `: ${said}`}${hint === undefined ? "" : `\nfix: ${hint}`}`;
  return new OperationFailed(redactSecrets(text, secretsOf(connection)));
}

function toolMissing(tool: PgTool): OperationFailed {
  return new OperationFailed(
    `${tool} was not found on PATH: install the PostgreSQL client tools of the server's major version ` +
      `(Debian/Ubuntu: apt-get install postgresql-client-<major>) and put their bin directory on PATH`,
  );
}
