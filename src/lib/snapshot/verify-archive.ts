import { OperationFailed } from "../errors";
import { childEnvironment } from "../child-env";
import { runPgTool } from "../pg/tools";

/**
 * Checks that pg_restore can read the archive's table of contents (`pg_restore --list`, no database needed)
 * and returns how many entries it lists.
 */
export async function verifyArchive(
  archivePath: string,
  parentEnv: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<number> {
  const run = await runPgTool("pg_restore", ["--list", archivePath], { env: childEnvironment(parentEnv), signal });
  if (signal?.aborted) throw signal.reason ?? new OperationFailed("interrupted");
  if (run.code !== 0) {
    const said = run.stderr.trim().split("\n").slice(-4).join("\n");
    throw new OperationFailed(
      `pg_restore cannot read ${archivePath} (exit ${run.code ?? run.signal}): ${said}; ` +
        "if it names an unsupported archive version, use a pg_restore at least as new as the pg_dump that wrote it",
    );
  }
  return run.stdout.split("\n").filter((line) => line.trim() !== "" && !line.startsWith(";")).length;
}
