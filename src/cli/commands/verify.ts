import { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { namespaceNameProblem, releaseNameProblem } from "../../lib/kube";
import { failedCheckNames, formatChecks } from "../../lib/check";
import { OnFailure, runVerification, VerifyOptions, VerifyReport } from "../../lib/verify/verify";
import { checkDatabase } from "../../lib/pg/check-database";
import { connectionFromEnv } from "../../lib/pg/connection";
import { readServerSchemas } from "../../lib/verify/server-schemas";
import { STARTUP_ERROR_PATTERNS } from "../../lib/verify/startup-errors";
import { MIGRATION_ERROR_PATTERNS } from "../../lib/verify/migration-errors";
import { baseUrlFlag, healthPathFlag, optionalString } from "../flags";

const HELP = `usage: runbook verify --base-url URL --expect-tier TIER [options]
       runbook verify --base-url URL --health-path PATH [options]      (em-runtime)

Checks a release after it changed. Every check runs; the command fails (exit 1) if any failed and prints
the way back (runbook diagnose, runbook rollback, pulumi stack history, helm rollback).

Checks:
  ready        GET /ready answers 200, retried with exponential backoff and jitter up to --ready-timeout
  auth-setup   GET /auth/setup answers 200 only on a first install; a 200 after an upgrade means the
               admin was lost
  license      GET /license: tier equals --expect-tier; current_seats a non-negative integer not above the
               license's own seat limit nor --max-seats; expires_at in the future (WARN within
               --license-warn-days)
  api-logs     the last --log-lines lines of the api container's logs (kubectl logs -l
               app.kubernetes.io/instance=RELEASE -c api) match none of:
               ${STARTUP_ERROR_PATTERNS.map((p) => p.name).join(" | ")}
               (SKIP without --namespace and --release, or when no pod has an api container)
  <c>-logs     with --log-components: for each component (governance, assets, utils), the last
               --log-lines lines of every container of its Deployment's pods (<release>-<component>;
               kubectl logs deploy/...) match none of the migration errors:
               ${MIGRATION_ERROR_PATTERNS.slice(0, MIGRATION_ERROR_PATTERNS.length - STARTUP_ERROR_PATTERNS.length)
                 .map((p) => p.name)
                 .join(" | ")}
               nor the startup errors above; replaces api-logs. SKIP, saying why, for a component without
               a Deployment or pods, or whose containers logged nothing (never passed on 0 lines)
  health       em-runtime mode: GET --health-path answers 200, retried like ready (replaces ready,
               auth-setup and license; --expect-tier, --first-install, --license-warn-days and
               --max-seats are then not used)

Options:
  --base-url URL             the application's address, e.g. https://alexandria.example.com
  --expect-tier TIER         starter, professional, enterprise… (required unless --health-path)
  --first-install            the release was installed, not upgraded (auth-setup must answer 200)
  --ready-timeout SECONDS    bound of the ready/health check, retries included (default 300)
  --request-timeout SECONDS  deadline of each HTTP request (default 10)
  --license-warn-days N      warn when the license expires within N days (default 30)
  --max-seats N              fail when current_seats is above N
  --health-path PATH         em-runtime: check this path instead, e.g. /api/governance/health
  --namespace NS             with --release: read the api logs from the cluster (KUBECONFIG)
  --release NAME             the Helm release name, e.g. alexandria-ee
  --context NAME             kubeconfig context (default: the current context)
  --log-lines N              how many log lines per container (default 50)
  --log-components LIST      em-runtime: the components whose Deployments' logs are checked for migration
                             errors, e.g. governance,assets,utils (instead of api-logs)
  --no-logs                  the application has no log source: one check \`logs\`, SKIP, says so
  --json                     print one JSON object: {ok, checks: [{name, ok, detail, warning?, skipped?}], finishedAt, wayBack?,
                             afterFailure?}

After a failed check (with --namespace and --release), decided by the schema:
  --served-before N          the revision that served before this up (preflight records it)
  --pre-upgrade-schema V     the schema version the pre-upgrade snapshot recorded
  --schema-version-query SQL read the schema version now (PG_DSN, or RUNBOOK_DSN_SECRET)
  --auto-rollback            when the schema did not move, roll the release back to --served-before
                             (helm rollback, on PATH) and verify it again; the command still fails
  --helm-timeout SECONDS     Helm's wait for the rolled-back revision (default 600)
  --stack NAME, --pre-upgrade-snapshot PATH
                             named in the way back when the schema moved (rollback with the restore)
  --pre-upgrade-server-snapshot DIR
                             em-runtime: the server snapshot taken before the up (snapshot
                             --all-databases); decides instead of --pre-upgrade-schema and
                             --schema-version-query by every database it saved: each one's
                             alembic_version in its manifest against the one now (PG_DSN's server).
                             None moved: --auto-rollback rolls back; any moved: the release is kept and
                             the way back is \`runbook restore --snapshot DIR --yes\`

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad usage.`;

/** Flags of Alexandria EE's checks; accepted but unused with --health-path, so one caller can serve both apps. */
const ALEXANDRIA_ONLY_FLAGS = ["expect-tier", "first-install", "license-warn-days", "max-seats"];

export const verifyCommand: CliCommand = {
  name: "verify",
  summary: "check a release after it changed: /ready, /auth/setup, /license, api logs (or em-runtime health)",
  help: HELP,
  options: {
    "base-url": { type: "string" },
    "expect-tier": { type: "string" },
    "first-install": { type: "boolean" },
    "ready-timeout": { type: "string" },
    "request-timeout": { type: "string" },
    "license-warn-days": { type: "string" },
    "max-seats": { type: "string" },
    "health-path": { type: "string" },
    namespace: { type: "string" },
    release: { type: "string" },
    context: { type: "string" },
    "log-lines": { type: "string" },
    "log-components": { type: "string" },
    "no-logs": { type: "boolean" },
    "served-before": { type: "string" },
    "pre-upgrade-schema": { type: "string" },
    "schema-version-query": { type: "string" },
    "auto-rollback": { type: "boolean" },
    "helm-timeout": { type: "string" },
    stack: { type: "string" },
    "pre-upgrade-snapshot": { type: "string" },
    "pre-upgrade-server-snapshot": { type: "string" },
  },
  async run(values, env): Promise<CommandResult> {
    const options = verifyOptionsFrom(values, env);
    const report = await runVerification(options);
    const failed = failedCheckNames(report.checks);
    const unused = options.app.kind === "health" ? ALEXANDRIA_ONLY_FLAGS.filter((f) => values[f] !== undefined) : [];
    const lines = [
      `verify ${options.baseUrl}`,
      ...(unused.length > 0 ? [`(em-runtime mode: ${unused.map((f) => `--${f}`).join(", ")} not used)`] : []),
      formatChecks(report.checks),
    ];
    if (report.ok) {
      lines.push("verify: every check passed");
    } else {
      lines.push(`verify: FAILED (${failed.join(", ")})`, ...describeAfterFailure(report.afterFailure));
      if (report.afterFailure?.rolledBackTo === undefined || report.afterFailure.reverify?.ok !== true) {
        lines.push("The way back:", ...(report.wayBack ?? []).map((l) => `  ${l}`));
      }
    }
    // When the checks finished: a stack that promotes from this one reports when its target was verified.
    return { ok: report.ok, json: { ...report, finishedAt: new Date().toISOString() }, text: lines.join("\n") };
  },
};

function describeAfterFailure(after: VerifyReport["afterFailure"]): string[] {
  if (after === undefined) return [];
  if (after.rollbackError !== undefined) {
    return [`the release could not be rolled back (${after.decision.reason}): ${after.rollbackError}`];
  }
  if (after.rolledBackTo !== undefined) {
    const again = after.reverify;
    return [
      `${after.decision.reason}: the release was rolled back to revision ${after.rolledBackTo}, which serves again` +
        (again?.ok ? " and passed verification" : ""),
      ...(again === undefined ? [] : [formatChecks(again.checks)]),
    ];
  }
  return [`the release was left as it is: ${after.decision.reason}`];
}

function verifyOptionsFrom(values: ParsedValues, env: NodeJS.ProcessEnv): VerifyOptions {
  const baseUrl = baseUrlFlag(values, "https://alexandria.example.com");
  if (baseUrl === undefined) {
    throw new UsageError(
      "--base-url is required: the application's address, e.g. --base-url https://alexandria.example.com",
    );
  }

  const healthPath = healthPathFlag(values);
  let app: VerifyOptions["app"];
  if (healthPath !== undefined) {
    app = { kind: "health", healthPath };
  } else {
    app = {
      kind: "alexandria",
      expectTier: requiredString(
        values,
        "expect-tier",
        "the license tier this environment must run, e.g. --expect-tier enterprise",
      ),
      firstInstall: values["first-install"] === true,
      licenseWarnDays: wholeNumber(values, "license-warn-days", 30, 0),
      ...(values["max-seats"] === undefined ? {} : { maxSeats: wholeNumber(values, "max-seats", 0, 0) }),
    };
  }

  const namespace = optionalString(values, "namespace");
  const release = optionalString(values, "release");
  const namespaceProblem = namespace === undefined ? undefined : namespaceNameProblem(namespace);
  if (namespaceProblem !== undefined) throw new UsageError(`--namespace '${namespace}' ${namespaceProblem}`);
  const releaseProblem = release === undefined ? undefined : releaseNameProblem(release);
  if (releaseProblem !== undefined) throw new UsageError(`--release '${release}' ${releaseProblem}`);

  if ((namespace === undefined) !== (release === undefined)) {
    throw new UsageError(
      "--namespace and --release go together (to read the api logs): give both, or neither to skip api-logs",
    );
  }
  const context = optionalString(values, "context");
  const logLines = wholeNumber(values, "log-lines", 50, 1);
  if (namespace === undefined && values["log-lines"] !== undefined) {
    throw new UsageError("--log-lines needs --namespace and --release (where to read the api logs)");
  }

  const logComponents = componentList(values);
  if (values["no-logs"] === true && logComponents !== undefined) {
    throw new UsageError("--no-logs and --log-components contradict each other: give one");
  }
  return {
    baseUrl,
    app,
    ...(logComponents === undefined ? {} : { logs: { kind: "deployments", components: logComponents } }),
    ...(values["no-logs"] === true ? { logs: { kind: "none" } } : {}),
    readyTimeoutMs: seconds(values, "ready-timeout", 300) * 1000,
    requestTimeoutMs: seconds(values, "request-timeout", 10) * 1000,
    ...(namespace === undefined || release === undefined
      ? {}
      : {
          cluster: { target: { namespace, ...(context === undefined ? {} : { context }) }, release, lines: logLines },
        }),
    env,
    ...(values["served-before"] === undefined && values["auto-rollback"] !== true
      ? {}
      : { onFailure: onFailureFrom(values, env, namespace !== undefined) }),
  };
}

function onFailureFrom(values: ParsedValues, env: NodeJS.ProcessEnv, hasCluster: boolean): OnFailure {
  if (values["auto-rollback"] === true && !hasCluster) {
    throw new UsageError("--auto-rollback needs --namespace and --release (the release to roll back)");
  }
  const query = optionalString(values, "schema-version-query");
  const servedBefore = optionalString(values, "served-before");
  const preUpgradeSchema = optionalString(values, "pre-upgrade-schema");
  const stack = optionalString(values, "stack");
  const snapshot = optionalString(values, "pre-upgrade-snapshot");
  const server = optionalString(values, "pre-upgrade-server-snapshot");
  if (server !== undefined) {
    const clash = ["pre-upgrade-schema", "schema-version-query", "pre-upgrade-snapshot"].filter(
      (f) => values[f] !== undefined,
    );
    if (clash.length > 0) {
      throw new UsageError(
        `--pre-upgrade-server-snapshot decides by each database's alembic_version in the server snapshot: leave out ` +
          clash.map((f) => `--${f}`).join(", "),
      );
    }
  }
  return {
    autoRollback: values["auto-rollback"] === true,
    ...(servedBefore === undefined ? {} : { servedBefore: wholeNumber(values, "served-before", 0, 1) }),
    ...(preUpgradeSchema === undefined ? {} : { preUpgradeSchema }),
    ...(query === undefined
      ? {}
      : {
          readLiveSchema: async () => {
            const facts = await checkDatabase(connectionFromEnv(env), { schemaVersionQuery: query });
            return facts.schemaVersion ?? undefined;
          },
        }),
    helmTimeoutSeconds: seconds(values, "helm-timeout", 600),
    ...(stack === undefined ? {} : { stack }),
    ...(snapshot === undefined ? {} : { preUpgradeSnapshot: snapshot }),
    ...(server === undefined
      ? {}
      : {
          preUpgradeServerSnapshot: server,
          readServerSchemas: () => readServerSchemas(server, connectionFromEnv(env)),
        }),
  };
}

const COMPONENT = /^[a-z][a-z0-9-]*$/;

/** --log-components governance,assets,utils; undefined when absent. */
function componentList(values: ParsedValues): string[] | undefined {
  const text = optionalString(values, "log-components");
  if (text === undefined) return undefined;
  const components = text.split(",").map((c) => c.trim());
  const bad = components.filter((c) => !COMPONENT.test(c));
  if (bad.length > 0) {
    throw new UsageError(
      `--log-components '${text}' is not a comma list of component names: write e.g. --log-components governance,assets,utils`,
    );
  }
  return [...new Set(components)];
}

function requiredString(values: ParsedValues, flag: string, what: string): string {
  const value = optionalString(values, flag);
  if (value === undefined) throw new UsageError(`--${flag} is required: ${what}`);
  return value;
}

function wholeNumber(values: ParsedValues, flag: string, fallback: number, min: number): number {
  const value = optionalString(values, flag);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`--${flag} must be a whole number${min > 0 ? ` of at least ${min}` : ""}, got '${value}'`);
  }
  return Number(value);
}

function seconds(values: ParsedValues, flag: string, fallback: number): number {
  const value = optionalString(values, flag);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0)
    throw new UsageError(`--${flag} must be a number of seconds above 0, got '${value}'`);
  return n;
}
