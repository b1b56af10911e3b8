import { parseArgs } from "node:util";
import { CliCommand, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./command";
import { OperationFailed, UsageError } from "../lib/errors";
import { commands } from "./commands";
import { redactSecrets } from "../lib/redact";
import { withDsnFromSecret } from "./dsn-from-secret";
import { takeProcessEnvironment } from "./process-env";

function topLevelHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: runbook <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Every command takes --help and --json. Exit codes: 0 passed, 1 a check or the operation failed,",
    "2 bad usage or config (runbook diff --exit-code: 3 there are changes). Database connection strings are",
    "read only from the PG_DSN environment variable.",
  ].join("\n");
}

function print(stream: NodeJS.WriteStream, text: string): void {
  if (text.length > 0) stream.write(text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * Runs one CLI invocation and returns the exit code; never throws. Without `env`, the commands get the
 * process's environment and process.env keeps none of its secrets (see takeProcessEnvironment).
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = takeProcessEnvironment()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    print(process.stdout, topLevelHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command: CliCommand | undefined = commands.find((c) => c.name === name);
  if (command === undefined) {
    print(process.stderr, `runbook: unknown command '${name}'\n\n${topLevelHelp()}`);
    return EXIT_USAGE;
  }
  const wantsJson = rest.includes("--json");
  try {
    env = await withDsnFromSecret(env);
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      print(process.stdout, command.help);
      return EXIT_OK;
    }
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument '${positionals[0]}'; see 'runbook ${name} --help'`);
    }
    const result = await command.run(values as Record<string, string | boolean | undefined>, env);
    print(process.stdout, wantsJson ? JSON.stringify(result.json) : result.text);
    // A failed --json run is usually read by Pulumi, which shows stderr: say there what failed.
    if (!result.ok && wantsJson) print(process.stderr, result.text);
    return result.exitCode ?? (result.ok ? EXIT_OK : EXIT_FAILED);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    const message = redactSecrets(err instanceof Error ? err.message : String(err), env);
    if (wantsJson) {
      const detail = err instanceof OperationFailed ? err.detail : undefined;
      print(process.stdout, JSON.stringify({ ok: false, error: message, ...(detail === undefined ? {} : { detail }) }));
    }
    print(process.stderr, `runbook ${name}: ${message}${usage ? `\nsee 'runbook ${name} --help'` : ""}`);
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}
