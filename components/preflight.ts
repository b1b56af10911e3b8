import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { ReleaseGuard } from "../src/lib/release/guard";
import type { Profile } from "../src/lib/profiles";
import { guardEnvironment, ignoredWhileInSync, LIVE_RELEASE_ENV } from "./guardKeys";
import { parseRunbookJson, runbookInvocation } from "./runbookCli";

export interface PreflightArgs {
  /** Namespace of the release. No default. */
  readonly namespace: string;
  /** Helm release name. No default. */
  readonly releaseName: string;
  /**
   * Target image per component, `repository:tag`, each checked in the registry. No default; may be empty
   * only with gateChartVersion (the chart version pins the images).
   */
  readonly images: Readonly<Record<string, string>>;
  /**
   * The target chart version, when the profile's minor-version gate compares chart versions (em-runtime).
   * Default: the gate compares api tags.
   */
  readonly gateChartVersion?: string;
  /** Allow plain http to a non-loopback registry. Default false. */
  readonly registryInsecure?: boolean;
  /** Registry user for basic or token auth. Default: anonymous. */
  readonly registryUsername?: string;
  /** Registry password or access token (secret). Default: none. */
  readonly registryPassword?: pulumi.Input<string>;
  /** Kubernetes Secret `name/key` that must hold the DSN. Default: not checked. */
  readonly dsnSecret?: { readonly name: string; readonly key: string };
  /** DSN to connect with (secret); default: read from dsnSecret. */
  readonly pgDsn?: pulumi.Input<string>;
  /** SQL returning the application's schema/migration version. Default: none. */
  readonly schemaVersionQuery?: string;
  /** Require acknowledgeUpgrade to cross a minor version or a destructive release. Default false. */
  readonly protected?: boolean;
  /** The exact target api tag the operator acknowledged. Default: none. */
  readonly acknowledgeUpgrade?: string;
  /** The target release is flagged destructive. Default false. */
  readonly destructive?: boolean;
  /** Why a protected stack may reach Postgres with an sslmode weaker than verify-full. Default: none, refused. */
  readonly allowUnverifiedDatabaseTls?: string;
  /** kubeconfig context. Default: the current context. */
  readonly kubeContext?: string;
  /** The stack's snapshots: the schema guard refuses an older target on a newer schema. Default: not checked. */
  readonly snapshots?: { readonly dir: string; readonly stack: string };
  /**
   * The release guard's keys: preflight runs again whenever the release inputs change or the live release
   * is not the target (a retry, a hand rollback, a stuck release). Default: keyed to its own inputs only.
   */
  readonly guard?: ReleaseGuard;
  /** The application's own checks (em-runtime's guide), from its profile. Default: none. */
  readonly applicationChecks?: ApplicationChecks;
}

/** What `runbook preflight` checks beyond Alexandria EE's runbook, as the application's profile says. */
export interface ApplicationChecks {
  /** Every pod of the namespace, not only the release's (`--all-pods`). */
  readonly allPods: boolean;
  /** The infrastructure pods' label selector. Default: not checked. */
  readonly infrastructureSelector?: string;
  /** The application's public address, for the two checks below. */
  readonly baseUrl: string;
  /** GET over baseUrl before the upgrade. Default: not checked. */
  readonly healthPath?: string;
  /** The Secret key that must hold baseUrl. Default: not checked. */
  readonly baseUrlSecret?: { readonly name: string; readonly key: string };
}

/** The profile's preflight facts as the component takes them; undefined when it asks for none (Alexandria EE). */
export function applicationChecksFor(profile: Profile, baseUrl: string): ApplicationChecks | undefined {
  const checks: ApplicationChecks = {
    allPods: profile.pods.preflightScope === "namespace",
    baseUrl,
    ...(profile.pods.infrastructureSelector === undefined
      ? {}
      : { infrastructureSelector: profile.pods.infrastructureSelector }),
    ...(profile.health.kind === "path" ? { healthPath: profile.health.path } : {}),
    ...(profile.baseUrlSecret === undefined ? {} : { baseUrlSecret: profile.baseUrlSecret }),
  };
  const any =
    checks.allPods ||
    checks.infrastructureSelector !== undefined ||
    checks.healthPath !== undefined ||
    checks.baseUrlSecret !== undefined;
  return any ? checks : undefined;
}

/** The facts preflight established, as the CLI's JSON reported them. */
export interface PreflightFacts {
  readonly releaseRevision: number | null;
  readonly firstInstall: boolean;
  readonly currentApiTag: string | null;
  readonly serverVersion: string | null;
  readonly schemaVersion: string | null;
}

/** Serialises images as `component=ref,...` in a stable order, so unchanged targets give unchanged inputs. */
export function imagesArgument(images: Readonly<Record<string, string>>): string {
  return Object.keys(images)
    .sort()
    .map((component) => `${component}=${images[component]}`)
    .join(",");
}

/** Builds the `runbook preflight` call from the component's args. Pure; tested without mocks. */
export function preflightInvocation(args: PreflightArgs) {
  const switches = [
    ...(args.registryInsecure ? ["registry-insecure"] : []),
    ...(args.protected ? ["protected"] : []),
    ...(args.destructive ? ["destructive"] : []),
    ...(args.applicationChecks?.allPods ? ["all-pods"] : []),
  ];
  const app = args.applicationChecks;
  const usesBaseUrl = app?.healthPath !== undefined || app?.baseUrlSecret !== undefined;
  return runbookInvocation(
    "preflight",
    {
      namespace: args.namespace,
      release: args.releaseName,
      images: Object.keys(args.images).length === 0 ? undefined : imagesArgument(args.images),
      "chart-version": args.gateChartVersion,
      "dsn-secret": args.dsnSecret === undefined ? undefined : `${args.dsnSecret.name}/${args.dsnSecret.key}`,
      "schema-version-query": args.schemaVersionQuery,
      acknowledge: args.acknowledgeUpgrade,
      "allow-unverified-database-tls": args.allowUnverifiedDatabaseTls,
      context: args.kubeContext,
      "snapshot-dir": args.snapshots?.dir,
      stack: args.snapshots?.stack,
      "infrastructure-selector": app?.infrastructureSelector,
      "base-url": usesBaseUrl ? app?.baseUrl : undefined,
      "health-path": app?.healthPath,
      "base-url-secret":
        app?.baseUrlSecret === undefined ? undefined : `${app.baseUrlSecret.name}/${app.baseUrlSecret.key}`,
    },
    switches,
    {
      PG_DSN: args.pgDsn,
      REGISTRY_USERNAME: args.registryUsername,
      REGISTRY_PASSWORD: args.registryPassword,
      ...guardEnvironment(args.guard),
    },
  );
}

export function parsePreflightFacts(stdout: string): PreflightFacts {
  const json = parseRunbookJson(stdout, "preflight");
  const text = (v: unknown) => (v === undefined || v === null ? null : String(v));
  return {
    releaseRevision: typeof json.releaseRevision === "number" ? json.releaseRevision : null,
    firstInstall: json.firstInstall === true,
    currentApiTag: text(json.currentApiTag),
    serverVersion: text(json.serverVersion),
    schemaVersion: text(json.schemaVersion),
  };
}

/**
 * Refuses to touch anything unless the target tags exist, the current release is recorded and healthy, the
 * database answers, and a protected stack's minor-version gate is acknowledged; for em-runtime also every pod
 * of the namespace, the database pods, the health path and base-url (applicationChecks). Runs `runbook preflight`
 * before every release change (a new target, or a live release that is not the target), and never on a no-op;
 * a failed check fails the update before the snapshot and the release.
 */
export class Preflight extends pulumi.ComponentResource {
  public readonly facts: pulumi.Output<PreflightFacts>;
  public readonly releaseRevision: pulumi.Output<number | null>;
  public readonly firstInstall: pulumi.Output<boolean>;

  constructor(name: string, args: PreflightArgs, opts?: pulumi.ComponentResourceOptions) {
    if (Object.keys(args.images).length === 0 && args.gateChartVersion === undefined) {
      throw new Error(
        `Preflight ${name}: images is empty; pass at least one component's target image, or gateChartVersion ` +
          "when the chart version pins the images",
      );
    }
    super("release-runbook:checks:Preflight", name, {}, opts);
    const invocation = preflightInvocation(args);
    const run = new command.local.Command(
      `${name}-preflight`,
      { create: invocation.create, environment: invocation.environment },
      {
        parent: this,
        dependsOn: opts?.dependsOn,
        ignoreChanges: ignoredWhileInSync(args.guard, [`environment.${LIVE_RELEASE_ENV}`]),
      },
    );
    this.facts = run.stdout.apply(parsePreflightFacts);
    this.releaseRevision = this.facts.releaseRevision;
    this.firstInstall = this.facts.firstInstall;
    this.registerOutputs({ facts: this.facts });
  }
}
