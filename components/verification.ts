import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { parseRunbookJson, runbookInvocation } from "./runbookCli";
import type { Tier } from "../src/lib/config/schema";

export interface VerificationArgs {
  /** Public base URL of the application. No default. */
  readonly baseUrl: string;
  /** The tier /license must report. No default. */
  readonly expectTier: Tier;
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
  /** Log lines of the api container checked for startup errors; 0 skips the check. Default 50. */
  readonly logLines?: number;
  /** em-runtime: the health path checked instead of Alexandria's endpoints. Default: none. */
  readonly healthPath?: string;
  /** kubeconfig context. Default: the current context. */
  readonly kubeContext?: string;
}

export interface VerificationCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** Why the check passed with a warning (e.g. the license expires soon). */
  readonly warning?: string;
  readonly skipped?: boolean;
}

/** Builds the `runbook verify` call; `firstInstall` picks a constant switch, never text from config. */
export function verifyInvocation(args: VerificationArgs, firstInstall: boolean, releaseRevision: number) {
  const logLines = args.logLines ?? 50;
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
      context: args.kubeContext,
    },
    firstInstall ? ["first-install"] : [],
    { RUNBOOK_VERIFIED_REVISION: String(releaseRevision) },
  );
}

/** One line per check: `ready=ok license=WARN(...)`, the stack output operators read. */
export function summariseChecks(checks: readonly VerificationCheck[]): string {
  return checks
    .map((c) => `${c.name}=${c.skipped ? "skipped" : !c.ok ? "FAILED" : c.warning ? "warn" : "ok"}`)
    .join(" ");
}

export function parseVerification(stdout: string): { ok: boolean; checks: VerificationCheck[] } {
  const json = parseRunbookJson(stdout, "verify");
  const checks = Array.isArray(json.checks) ? (json.checks as VerificationCheck[]) : [];
  return { ok: json.ok === true, checks };
}

/**
 * Runs `runbook verify` after every release change: /ready, /auth/setup, /license and the api's logs. A
 * failed check fails the update, names the check and prints the way back.
 */
export class Verification extends pulumi.ComponentResource {
  public readonly checks: pulumi.Output<VerificationCheck[]>;
  public readonly summary: pulumi.Output<string>;

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^https?:\/\//.test(args.baseUrl)) {
      throw new Error(`Verification ${name}: baseUrl '${args.baseUrl}' must be an http(s) URL`);
    }
    super("release-runbook:checks:Verification", name, {}, opts);
    const invocation = pulumi
      .all([args.firstInstall, args.releaseRevision])
      .apply(([first, revision]) => verifyInvocation(args, first, revision));
    const run = new command.local.Command(
      `${name}-verify`,
      { create: invocation.apply((i) => i.create), environment: invocation.apply((i) => i.environment) },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.checks = run.stdout.apply((out) => parseVerification(out).checks);
    this.summary = this.checks.apply(summariseChecks);
    this.registerOutputs({ checks: this.checks, summary: this.summary });
  }
}
