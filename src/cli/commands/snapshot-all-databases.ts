import type { CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { CompanionRequest, describeCompanion } from "../../lib/snapshot/companions";
import { connectionFromEnv } from "../../lib/pg/connection";
import { databasePattern, flagPattern } from "../../lib/snapshot/database-patterns";
import { withInterruption } from "../../lib/snapshot/interruption";
import type { SnapshotFormat } from "../../lib/snapshot/layout";
import { ServerSnapshotOutcome, takeServerSnapshot } from "../../lib/snapshot/server-snapshot";

/** What `runbook snapshot` parses the same way for one database and for all of them. */
export interface CommonSnapshotFlags {
  readonly outDir: string;
  readonly format: SnapshotFormat;
  readonly jobs: number;
  readonly compress: number;
  readonly name?: string;
  readonly context?: Record<string, unknown>;
  /** --kube-secrets and RUNBOOK_REDIS_URL: saved with the snapshot, for one database or all of them. */
  readonly companions: CompanionRequest;
  readonly protectedStack: boolean;
}

/** Flags that only mean something with --all-databases. */
const SERVER_ONLY_FLAGS = ["with-role-passwords", "exclude-database", "include-database"] as const;

/** Flags of the single-database snapshot that a server snapshot does not take, with the reason. */
const SINGLE_DATABASE_ONLY: Record<string, string> = {
  "schema-version-query": "each database's schema version is read from its alembic_version table",
};

export function refuseServerOnlyFlags(values: ParsedValues): void {
  for (const flag of SERVER_ONLY_FLAGS) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is only used with --all-databases`);
  }
}

/** `runbook snapshot --all-databases`: every database on the server of PG_DSN, plus its roles. */
export async function runServerSnapshot(
  values: ParsedValues,
  env: NodeJS.ProcessEnv,
  common: CommonSnapshotFlags,
): Promise<CommandResult> {
  for (const [flag, reason] of Object.entries(SINGLE_DATABASE_ONLY)) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} cannot be used with --all-databases: ${reason}`);
  }
  if (values.format !== undefined && common.format !== "directory") {
    throw new UsageError(
      "--all-databases writes one directory-format dump per database (parallel): leave out --format or give directory",
    );
  }
  const given = excludePatterns(values["exclude-database"]);
  const included = excludePatterns(values["include-database"]);
  const connection = connectionFromEnv(env);
  const outcome = await withInterruption("the snapshot", (signal) =>
    takeServerSnapshot({
      connection,
      parentEnv: env,
      outDir: common.outDir,
      name: common.name,
      jobs: common.jobs,
      compress: common.compress,
      withRolePasswords: values["with-role-passwords"] === true,
      exclude: { patterns: given.map(databasePattern), given },
      ...(included.length === 0
        ? {}
        : { include: { patterns: included.map((p) => flagPattern("--include-database", p)), given: included } }),
      companions: common.companions,
      lockCommand: "snapshot --all-databases",
      context: common.context,
      protectedStack: common.protectedStack,
      signal,
    }),
  );
  return { ok: true, json: serverSnapshotJson(outcome), text: serverSnapshotText(outcome) };
}

function excludePatterns(value: ParsedValues[string]): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function serverSnapshotJson(outcome: ServerSnapshotOutcome): Record<string, unknown> {
  const { manifest: m, path, manifestPath } = outcome;
  return {
    ok: true,
    kind: m.kind,
    name: m.name,
    path,
    manifestPath,
    sha256: m.sha256,
    bytes: m.bytes,
    format: m.dumpOptions.format,
    serverVersion: m.serverVersion,
    serverVersionNum: m.serverVersionNum,
    pgDumpVersion: m.pgDumpVersion,
    createdAt: m.createdAt,
    durations: { ...m.durations, ...(outcome.commitMs === undefined ? {} : { commitMs: outcome.commitMs }) },
    reused: outcome.reused,
    globals: m.globals,
    databases: m.databases.map((d) => ({
      name: d.name,
      path: `${path}/${d.directory}`,
      sha256: d.sha256,
      bytes: d.bytes,
      schemaVersion: d.schemaVersion,
      owner: d.properties.owner,
      tocEntries: d.tocEntries,
      durations: d.durations,
    })),
    companions: m.companions ?? [],
    ...(outcome.warnings === undefined ? {} : { warnings: outcome.warnings }),
  };
}

function serverSnapshotText(outcome: ServerSnapshotOutcome): string {
  const m = outcome.manifest;
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  const lines = [
    outcome.reused
      ? `server snapshot ${m.name} already exists (taken ${m.createdAt}); not dumped again`
      : `server snapshot ${m.name} taken: ${m.databases.length} databases in ${seconds(m.durations.databasesMs)}, ` +
        `roles in ${seconds(m.durations.globalsMs)}`,
    `path:      ${outcome.path} (${mib(m.bytes)})`,
    `sha256:    ${m.sha256}`,
    `manifest:  ${outcome.manifestPath}`,
    `source:    ${m.source.user}@${m.source.host}:${m.source.port}, PostgreSQL ${m.serverVersion}`,
    `roles:     ${m.globals.file} (${m.globals.bytes} bytes, ${m.globals.rolePasswords ? "with" : "without"} passwords)`,
  ];
  for (const d of m.databases) {
    const schema = d.schemaVersion === null ? "" : `, alembic ${d.schemaVersion}`;
    lines.push(`database:  ${d.name} → ${d.directory} (${mib(d.bytes)}, owner ${d.properties.owner}${schema})`);
  }
  for (const c of m.companions ?? []) lines.push(`also:      ${describeCompanion(c)}`);
  for (const warning of outcome.warnings ?? []) lines.push(`warning:   ${warning}`);
  return lines.join("\n");
}
