import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { childEnvironment } from "../child-env";
import { OperationFailed } from "../errors";
import { redactSecrets } from "../redact";

/** This CLI's own entry point (bin/runbook.js), found above this module whether it runs compiled or from source. */
function runbookEntry(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "bin", "runbook.js");
    if (existsSync(candidate)) return candidate;
  }
  throw new OperationFailed(`cannot find bin/runbook.js above ${__dirname}`);
}

/** Runs `runbook restore` as operators would, the DSN in its environment only. Resolves its JSON result. */
export function runRestore(
  snapshotPath: string,
  preRestoreDir: string,
  dsn: string,
  env: NodeJS.ProcessEnv,
  lockHandoff: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  return runRestoreCommand(
    ["--snapshot", snapshotPath, "--pre-restore-dir", preRestoreDir, "--yes"],
    snapshotPath,
    dsn,
    env,
    lockHandoff,
  );
}

/**
 * Runs `runbook restore ARGS --json` (also --resume and --abort of a journal). `lockHandoff` lets it work under
 * the lock of the operation that runs it (a rollback), which a second operator's restore still meets.
 */
export function runRestoreCommand(
  args: readonly string[],
  snapshotPath: string,
  dsn: string,
  env: NodeJS.ProcessEnv,
  lockHandoff: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const cli = runbookEntry();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, "restore", ...args, "--json"], {
      // The restore needs the DSN and what finds and runs pg_dump, pg_restore and psql; no other secret.
      env: childEnvironment(env, { set: { PG_DSN: dsn, ...lockHandoff } }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // reported below with stderr
      }
      if (code === 0) resolve(json);
      else
        reject(
          new OperationFailed(
            `restore of ${snapshotPath} failed: ${redactSecrets(String(json.error ?? stderr.trim()), { ...env, PG_DSN: dsn })}`,
            json,
          ),
        );
    });
  });
}
