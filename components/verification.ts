import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { parseRunbookJson, runbookInvocation } from "./runbookCli";
import type { Tier } from "../src/lib/config/schema";
import type { Profile } from "../src/lib/profiles";

export interface VerificationArgs {
  /** Public base URL of the application. No default. */
  readonly baseUrl: string;
  /** The tier /license must report. Default: none (an application checked by its health path). */
  readonly expectTier?: Tier;
  /** Whether this is the release's first install (then /auth/setup must answer 200). No default. */
  readonly firstInstall: pulumi.Input<boolean>;
  /** The release revision verified; a new revision runs the checks again. No default. */
  readonly releaseRevision: pulumi.Input<number>;
  /** Bound in seconds on waiting for /ready. Default 300. */
  readonly readyTimeoutSeconds?: number;
  /** Warn when the license expires within this many days. Default 30. */
  readonly licenseWarnDays?: number;
  /** Upper bound on current_seats. Default: the license's own seat count. */
  readonly maxSeats?: number;
  /** Namespace and release whose api container logs are read. */
  readonly namespace: string;
  readonly releaseName: string;
  /** Log lines of each container checked for startup (or migration) errors; 0 skips the checks. Default 50. */
  readonly logLines?: number;
  /**
   * em-runtime: the components whose Deployments' logs are checked for migration errors, instead of the api
   * container's. Default: the api container's (Alexandria EE).
   */
  readonly logComponents?: readonly string[];
  /** The application has no log source: the log check is reported skipped, saying so. Default false. */
  readonly noLogSource?: boolean;
  /** em-runtime: the health path checked instead of Alexandria's endpoints. Default: none. */
  readonly healthPath?: string;
  /** kubeconfig context. Default: the current context. */
  readonly kubeContext?: string;
  /** What a failed check does next, decided by the schema. Default: report and fail only. */
  readonly onFailure?: VerificationOnFailure;
}

export interface VerificationOnFailure {
  /** Roll the release back on its own when the schema did not move (config autoRollback). */
  readonly autoRollback: boolean;
  /** The revision that served before this up (preflight's record); null on a first install. */
  readonly servedBefore: pulumi.Input<number | null>;
  /** The schema version the pre-upgrade snapshot recorded; null when none. */
  readonly preUpgradeSchema: pulumi.Input<string | null>;
  /** The pre-upgrade snapshot, named in the way back when the schema moved. */
  readonly preUpgradeSnapshot: pulumi.Input<string>;
  /**
   * The snapshot is a server snapshot (snapshotScope server): the decision compares every database's
   * alembic_version in its manifest with the live one, and the way back restores it. Default false.
   */
  readonly serverSnapshot?: boolean;
  readonly stack: string;
  readonly schemaVersionQuery?: string;
  readonly helmTimeoutSeconds: number;
  /** DSN (secret) to read the schema version now; default: the Secret named by dsnSecretRef. */
  readonly pgDsn?: pulumi.Input<string>;
  /** `namespace/name/key` of the Kubernetes Secret holding the DSN. */
  readonly dsnSecretRef?: string;
}

/** The facts of the up a failed verification decides by, as the CLI's flags take them. */
export interface FailureFacts {
  readonly servedBefore: number | null;
  readonly preUpgradeSchema: string | null;
  readonly preUpgradeSnapshot: string;
}

export interface VerificationCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** Why the check passed with a warning (e.g. the license expires soon). */
  readonly warning?: string;
  readonly skipped?: boolean;
}

/** The components whose Deployments' logs the profile reads; undefined when it reads the api container's. */
export function logComponentsFor(profile: Profile): string[] | undefined {
  const components = profile.logSources.flatMap((s) => (s.kind === "deployment" ? [s.component] : []));
  return components.length === 0 ? undefined : components;
}

/** Whether the profile names no log source at all: verification then says its log check was skipped. */
export function hasNoLogSource(profile: Profile): boolean {
  return profile.logSources.length === 0;
}

/** Builds the `runbook verify` call; `firstInstall` picks a constant switch, never text from config. */
export function verifyInvocation(
  args: VerificationArgs,
  firstInstall: boolean,
  releaseRevision: number,
  failure?: FailureFacts,
) {
  const logLines = args.logLines ?? 50;
  const onFailure = args.onFailure;
  const cluster = logLines > 0;
  const server = onFailure?.serverSnapshot === true;
  return runbookInvocation(
    "verify",
    {
      "base-url": args.baseUrl,
      "expect-tier": args.expectTier,
      "ready-timeout": String(args.readyTimeoutSeconds ?? 300),
      "license-warn-days": String(args.licenseWarnDays ?? 30),
      "max-seats": args.maxSeats === undefined ? undefined : String(args.maxSeats),
      "health-path": args.healthPath,
      namespace: logLines > 0 ? args.namespace : undefined,
      release: logLines > 0 ? args.releaseName : undefined,
      "log-lines": logLines > 0 ? String(logLines) : undefined,
      // Also with logLines 0: each component's check then says it was skipped, under its own name.
      "log-components":
        args.logComponents !== undefined && args.logComponents.length > 0 ? args.logComponents.join(",") : undefined,
      context: args.kubeContext,
      "served-before":
        failure?.servedBefore === null || failure === undefined ? undefined : String(failure.servedBefore),
      "pre-upgrade-schema": server ? undefined : (failure?.preUpgradeSchema ?? undefined),
      "pre-upgrade-snapshot": server ? undefined : failure?.preUpgradeSnapshot,
      "pre-upgrade-server-snapshot": server ? failure?.preUpgradeSnapshot : undefined,
      "schema-version-query": server ? undefined : onFailure?.schemaVersionQuery,
      "helm-timeout": onFailure === undefined ? undefined : String(onFailure.helmTimeoutSeconds),
      stack: onFailure?.stack,
    },
    [
      ...(firstInstall ? ["first-install"] : []),
      ...(onFailure?.autoRollback && cluster ? ["auto-rollback"] : []),
      ...(args.noLogSource ? ["no-logs"] : []),
    ],
    {
      RUNBOOK_VERIFIED_REVISION: String(releaseRevision),
      RUNBOOK_DSN_SECRET: onFailure?.dsnSecretRef,
      RUNBOOK_KUBE_CONTEXT: onFailure?.dsnSecretRef === undefined ? undefined : args.kubeContext,
    },
  );
}

/** One line per check: `ready=ok license=WARN(...)`, the stack output operators read. */
export function summariseChecks(checks: readonly VerificationCheck[]): string {
  return checks
    .map((c) => `${c.name}=${c.skipped ? "skipped" : !c.ok ? "FAILED" : c.warning ? "warn" : "ok"}`)
    .join(" ");
}

export function parseVerification(stdout: string): {
  ok: boolean;
  checks: VerificationCheck[];
  finishedAt?: string;
} {
  const json = parseRunbookJson(stdout, "verify");
  const checks = Array.isArray(json.checks) ? (json.checks as VerificationCheck[]) : [];
  // Absent in the state of a verification run before `runbook verify` reported it.
  const finishedAt = typeof json.finishedAt === "string" ? json.finishedAt : undefined;
  return { ok: json.ok === true, checks, ...(finishedAt === undefined ? {} : { finishedAt }) };
}

/**
 * Runs `runbook verify` after every release change: /ready, /auth/setup, /license and the api's logs
 * (Alexandria EE), or the health path and the components' Deployments' logs (em-runtime). A failed check fails
 * the update, names the check and prints the way back, `runbook diagnose` first.
 */
export class Verification extends pulumi.ComponentResource {
  public readonly checks: pulumi.Output<VerificationCheck[]>;
  public readonly summary: pulumi.Output<string>;
  /** When `runbook verify` finished (ISO 8601); undefined for a run recorded before it said. */
  public readonly finishedAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^https?:\/\//.test(args.baseUrl)) {
      throw new Error(`Verification ${name}: baseUrl '${args.baseUrl}' must be an http(s) URL`);
    }
    super("release-runbook:checks:Verification", name, {}, opts);
    const failure = args.onFailure;
    const invocation = pulumi
      .all([
        args.firstInstall,
        args.releaseRevision,
        failure?.servedBefore ?? null,
        failure?.preUpgradeSchema ?? null,
        failure?.preUpgradeSnapshot ?? "",
      ])
      .apply(([first, revision, servedBefore, preUpgradeSchema, preUpgradeSnapshot]) =>
        verifyInvocation(
          args,
          first,
          revision,
          failure === undefined ? undefined : { servedBefore, preUpgradeSchema, preUpgradeSnapshot },
        ),
      );
    // The DSN (to read the schema after a failure) joins the environment as a secret, never the command line.
    const environment = pulumi
      .all([invocation, failure?.pgDsn])
      .apply(([i, dsn]) => (dsn === undefined || dsn === "" ? i.environment : { ...i.environment, PG_DSN: dsn }));
    const run = new command.local.Command(
      `${name}-verify`,
      { create: invocation.apply((i) => i.create), environment },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.checks = run.stdout.apply((out) => parseVerification(out).checks);
    this.summary = this.checks.apply(summariseChecks);
    this.finishedAt = run.stdout.apply((out) => parseVerification(out).finishedAt);
    this.registerOutputs({ checks: this.checks, summary: this.summary, finishedAt: this.finishedAt });
  }
}
