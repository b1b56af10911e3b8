import { allPassed, CheckResult } from "../check";
import { ConfigError, RawConfig, RunbookConfig } from "../config/schema";
import { validateConfig } from "../config/validate";
import { runPreflight, PreflightReport } from "../preflight/preflight";
import { checkSchemaGuard } from "../preflight/schema-guard";
import { credentialsFromEnv, parseImageReference } from "../registry";
import { parseStructured, RecordedConfig } from "./full-target";
import { readSnapshots } from "./snapshot-records";
import { PROJECT } from "./targets";

export interface TargetPreflight {
  /** Version N's config, validated as the program validates it; undefined when it has problems. */
  readonly config?: RunbookConfig;
  /** The program's validation problems (a local chart at HEAD whose version is not N's chartVersion...). */
  readonly configProblems?: readonly string[];
  readonly report?: PreflightReport;
}

/**
 * Version N's config as the program would read it: every non-secret key; the secrets count as set when the
 * stack sets them now (their values never leave the stack's encrypted config).
 */
export function validateTargetConfig(
  target: RecordedConfig,
  stack: string,
  projectDir: string,
  secretsSet: readonly string[],
): { config?: RunbookConfig; problems?: readonly string[] } {
  const values: Record<string, unknown> = {};
  for (const key of RawConfig.keys) {
    if ((RawConfig.secretKeys as readonly string[]).includes(key)) continue;
    const text = target[`${PROJECT}:${key}`]?.value;
    if (text !== undefined) values[key] = parseStructured(text) ?? text;
  }
  const present = (key: string) => (secretsSet.includes(key) ? ({} as never) : undefined);
  const raw: RawConfig = {
    values,
    parseErrors: [],
    pgDsn: present("pgDsn"),
    registryPassword: present("registryPassword"),
    redisUrl: present("redisUrl"),
  };
  try {
    return { config: validateConfig(raw, { project: PROJECT, stack, projectDir }).config };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems };
    throw err;
  }
}

/** `repository:tag`, or `repository@sha256:...` for a digest, as the pipeline names each image. */
function imageRef(repository: string, tag: string): string {
  return tag.startsWith("sha256:") ? `${repository}@${tag}` : `${repository}:${tag}`;
}

/**
 * Every check `pulumi up`'s preflight will run for version N, run now, before anything changes: the images
 * exist, the release is not stuck, the database answers, the minor-version gate and the schema guard. When
 * the rollback restores a snapshot first, the schema guard is judged on the schema that snapshot holds.
 */
export async function preflightTarget(input: {
  readonly config: RunbookConfig;
  readonly dsn?: string;
  /** The schema the database will hold when `pulumi up` runs (the restored snapshot's); undefined: as it is now. */
  readonly schemaAfterRestore?: string | null;
  readonly env: NodeJS.ProcessEnv;
}): Promise<PreflightReport> {
  const c = input.config;
  const report = await runPreflight({
    images: Object.entries(c.imageTags).map(([component, tag]) => ({
      component,
      ref: parseImageReference(imageRef(c.imageRepositories[component], tag)),
    })),
    registry: { credentials: credentialsFromEnv(input.env), allowInsecure: c.registryInsecure },
    cluster: {
      target: { namespace: c.namespace, ...(c.kubeContext === undefined ? {} : { context: c.kubeContext }) },
      release: c.releaseName,
    },
    ...(c.dsnSecret === undefined ? {} : { dsnSecret: c.dsnSecret }),
    ...(input.dsn === undefined ? {} : { envDsn: input.dsn }),
    ...(c.schemaVersionQuery === undefined ? {} : { schemaVersionQuery: c.schemaVersionQuery }),
    protectedStack: c.gate.protected,
    destructive: c.gate.destructive,
    ...(c.gate.acknowledgeUpgrade === undefined ? {} : { acknowledge: c.gate.acknowledgeUpgrade }),
    ...(c.gate.allowUnverifiedDatabaseTls === undefined
      ? {}
      : { allowUnverifiedDatabaseTls: c.gate.allowUnverifiedDatabaseTls }),
    snapshots: { dir: c.snapshot.dir, stack: c.stack },
    env: input.env,
  });
  if (input.schemaAfterRestore === undefined) return report;
  return rejudgeSchemaGuard(report, input);
}

/** The schema guard again, on the schema the restore will leave. */
async function rejudgeSchemaGuard(
  report: PreflightReport,
  input: Parameters<typeof preflightTarget>[0],
): Promise<PreflightReport> {
  const c = input.config;
  const records = await readSnapshots(c.snapshot.dir, c.stack);
  const guard = checkSchemaGuard({
    targetApiTag: c.imageTags.api,
    liveSchema: input.schemaAfterRestore,
    recorded: records.map((r) => ({
      snapshot: r.path,
      createdAt: r.createdAt,
      schemaVersion: r.schemaVersion,
      ...(typeof r.context?.fromApiTag === "string" ? { fromApiTag: r.context.fromApiTag } : {}),
    })),
    stack: c.stack,
  });
  const rejudged: CheckResult = {
    ...guard,
    detail: `after the restore (schema ${input.schemaAfterRestore ?? "none"}): ${guard.detail}`,
  };
  const checks = report.checks.map((ch) => (ch.name === "schema-guard" ? rejudged : ch));
  return { ...report, checks, ok: allPassed(checks) };
}
