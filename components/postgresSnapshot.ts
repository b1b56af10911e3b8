import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import type { ReleaseGuard } from "../src/lib/release/guard";
import { ignoredWhileInSync } from "./guardKeys";
import { flagEnvName, parseRunbookJson, runbookInvocation } from "./runbookCli";
import type { SnapshotFormat, SnapshotScope } from "../src/lib/config/schema";
import { STORE_ACCESS_KEY_ENV, STORE_SECRET_KEY_ENV } from "../src/lib/s3/credentials";
import type { StoreSettings } from "../src/lib/snapshot-store/settings";

export interface PostgresSnapshotArgs {
  /** The target versions (image tags, chart version, tier): a new snapshot is taken when any changes. No default. */
  readonly targetVersions: Readonly<Record<string, string>>;
  /**
   * `database`: pg_dump of the DSN's database (`runbook snapshot`); `server`: the roles and every database of
   * the DSN's server, as the guide's pg_dumpall (`runbook snapshot --all-databases`, directory format, each
   * database's schema read from its alembic_version, so no schemaVersionQuery). Both save kubeSecrets and
   * redisUrl. Default "database".
   */
  readonly scope?: SnapshotScope;
  /** Directory the dumps go to, relative to the project or absolute. No default. */
  readonly dir: string;
  /** pg_dump format. Default "directory". */
  readonly format?: SnapshotFormat;
  /** pg_dump parallel jobs (directory format). Default 2. */
  readonly jobs?: number;
  /** pg_dump compression level 0-9. Default 1. */
  readonly compression?: number;
  /** Prefix of the snapshot's name, usually the release name. No default. */
  readonly namePrefix: string;
  /** DSN to dump (secret). Default: read from the Kubernetes Secret named by dsnSecretRef. */
  readonly pgDsn?: pulumi.Input<string>;
  /** `namespace/name/key` of the Kubernetes Secret holding the DSN, used when pgDsn is absent. */
  readonly dsnSecretRef?: string;
  /** kubeconfig context for reading dsnSecretRef. Default: the current context. */
  readonly kubeContext?: string;
  /** SQL returning the schema/migration version recorded in the manifest. Default: none. */
  readonly schemaVersionQuery?: string;
  /** Kubernetes Secrets saved with the snapshot (`<name>.secrets.json`, or `<name>/secrets.json`). Default: none. */
  readonly kubeSecrets?: { readonly namespace: string; readonly names: readonly string[] };
  /** Redis URL (secret) whose dataset is saved with the snapshot (`<name>.redis.rdb`, or `<name>/redis.rdb`). Default: none. */
  readonly redisUrl?: pulumi.Input<string>;
  /**
   * Where the snapshot is also kept (`runbook snapshot --store`): uploaded after the local commit and read back.
   * Credentials (secrets) reach the command in its environment only. Database scope only. Default: none.
   */
  readonly store?: {
    readonly settings: StoreSettings;
    readonly accessKeyId?: pulumi.Input<string>;
    readonly secretAccessKey?: pulumi.Input<string>;
  };
  /** Refuse a snapshot directory that its group or other users can get at (else a warning). Default false. */
  readonly protected?: boolean;
  /** Facts recorded in the manifest (release, revision, from/to versions). Default: none. */
  readonly context?: pulumi.Input<Record<string, unknown>>;
  /**
   * The release guard's keys: a new snapshot is taken before every release change (new inputs, or a live
   * release that is not the target), never on a no-op, and never reused for another live state.
   * Default: kept by targetVersions only.
   */
  readonly guard?: ReleaseGuard;
}

export interface SnapshotResult {
  readonly name: string;
  readonly path: string;
  readonly manifestPath: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly format: string;
  readonly serverVersion: string;
  readonly schemaVersion: string | null;
  /** Paths of the companion backups (Secrets, Redis) taken with the dump. */
  readonly companions: string[];
}

/**
 * The keepers of the snapshot's random id: the target versions, and with a guard the digest of every
 * release input and what serves when it is not the target, so a snapshot is taken once per release change.
 */
export function snapshotKeepers(
  targetVersions: Readonly<Record<string, string>>,
  guard?: ReleaseGuard,
): Record<string, string> {
  const keepers: Record<string, string> = {};
  for (const key of Object.keys(targetVersions).sort()) keepers[key] = targetVersions[key];
  if (guard !== undefined) {
    keepers[RELEASE_INPUTS_KEEPER] = guard.releaseInputs;
    keepers[LIVE_RELEASE_KEEPER] = guard.liveRelease;
  }
  return keepers;
}

const RELEASE_INPUTS_KEEPER = "releaseInputs";
const LIVE_RELEASE_KEEPER = "liveRelease";

export function parseSnapshotResult(stdout: string): SnapshotResult {
  const json = parseRunbookJson(stdout, "snapshot");
  for (const field of ["path", "sha256", "bytes", "format"]) {
    if (json[field] === undefined) throw new Error(`runbook snapshot's result has no ${field}`);
  }
  return {
    name: String(json.name ?? ""),
    path: String(json.path),
    manifestPath: String(json.manifestPath ?? ""),
    sha256: String(json.sha256),
    bytes: Number(json.bytes),
    format: String(json.format),
    serverVersion: String(json.serverVersion ?? ""),
    schemaVersion: json.schemaVersion === undefined || json.schemaVersion === null ? null : String(json.schemaVersion),
    companions: Array.isArray(json.companions) ? json.companions.map((c: { path?: unknown }) => String(c.path)) : [],
  };
}

/**
 * A pg_dump of the application's database taken before the release changes, once per target: its name
 * comes from a random id kept by the target versions, and `runbook snapshot` returns an existing snapshot
 * of that name instead of dumping again.
 */
export class PostgresSnapshot extends pulumi.ComponentResource {
  public readonly snapshotName: pulumi.Output<string>;
  public readonly result: pulumi.Output<SnapshotResult>;
  public readonly path: pulumi.Output<string>;
  public readonly sha256: pulumi.Output<string>;

  constructor(name: string, args: PostgresSnapshotArgs, opts?: pulumi.ComponentResourceOptions) {
    if (Object.keys(args.targetVersions).length === 0) {
      throw new Error(
        `PostgresSnapshot ${name}: targetVersions is empty; the snapshot must be kept by the target versions`,
      );
    }
    if (args.pgDsn === undefined && args.dsnSecretRef === undefined) {
      throw new Error(`PostgresSnapshot ${name}: pass pgDsn or dsnSecretRef so the snapshot can reach the database`);
    }
    const scope = args.scope ?? "database";
    const refused = scope === "server" ? serverSnapshotRefuses(args) : [];
    if (refused.length > 0) {
      throw new Error(
        `PostgresSnapshot ${name}: a server snapshot dumps every database in directory format and reads each ` +
          `one's schema from its alembic_version; it takes no ${refused.join(", ")}`,
      );
    }
    super("release-runbook:db:PostgresSnapshot", name, {}, opts);
    const id = new random.RandomId(
      `${name}-id`,
      { byteLength: 4, keepers: snapshotKeepers(args.targetVersions, args.guard) },
      {
        parent: this,
        dependsOn: opts?.dependsOn,
        ignoreChanges: ignoredWhileInSync(args.guard, [`keepers.${LIVE_RELEASE_KEEPER}`]),
      },
    );
    this.snapshotName = pulumi.interpolate`${args.namePrefix}-${id.hex}`;
    const invocation =
      scope === "server"
        ? serverSnapshotInvocation(args, this.snapshotName)
        : databaseSnapshotInvocation(args, this.snapshotName);
    const dump = new command.local.Command(
      `${name}-dump`,
      { create: invocation.create, environment: invocation.environment },
      // The dump waits for whatever the snapshot waits for (preflight): a component's own dependsOn does
      // not order its children. The manifest's context holds the live revision, which moves on after every
      // up: ignored while the live release is the target.
      {
        parent: this,
        dependsOn: opts?.dependsOn,
        ignoreChanges: ignoredWhileInSync(args.guard, [`environment.${flagEnvName("context-json")}`]),
      },
    );
    this.result = dump.stdout.apply(parseSnapshotResult);
    this.path = this.result.path;
    this.sha256 = this.result.sha256;
    this.registerOutputs({ snapshotName: this.snapshotName, result: this.result });
  }
}

/** `runbook snapshot`: pg_dump of the DSN's database, with the Secrets and Redis dataset saved beside it. */
function databaseSnapshotInvocation(args: PostgresSnapshotArgs, name: pulumi.Output<string>) {
  return runbookInvocation(
    "snapshot",
    {
      "out-dir": args.dir,
      format: args.format ?? "directory",
      // pg_dump writes the custom format serially: --jobs is for directories only.
      jobs: (args.format ?? "directory") === "directory" ? String(args.jobs ?? 2) : undefined,
      compress: String(args.compression ?? 1),
      name,
      "schema-version-query": args.schemaVersionQuery,
      ...companionFlags(args),
      "context-json":
        args.context === undefined ? undefined : pulumi.output(args.context).apply((c) => JSON.stringify(c)),
      ...storeFlags(args.store?.settings),
    },
    args.protected ? ["protected"] : [],
    snapshotEnvironment(args),
  );
}

/** --kube-secrets and --kube-namespace: the Secrets saved with either kind of snapshot. */
function companionFlags(args: PostgresSnapshotArgs): Record<"kube-secrets" | "kube-namespace", string | undefined> {
  const secrets = args.kubeSecrets;
  const none = secrets === undefined || secrets.names.length === 0;
  return {
    "kube-secrets": none ? undefined : secrets.names.join(","),
    "kube-namespace": none ? undefined : secrets.namespace,
  };
}

/** The DSN (or the Secret holding it), the kubeconfig context and the Redis URL, passed as environment only. */
function snapshotEnvironment(args: PostgresSnapshotArgs) {
  return {
    PG_DSN: args.pgDsn,
    RUNBOOK_DSN_SECRET: args.dsnSecretRef,
    RUNBOOK_KUBE_CONTEXT: args.kubeContext,
    RUNBOOK_REDIS_URL: args.redisUrl,
    [STORE_ACCESS_KEY_ENV]: args.store?.accessKeyId,
    [STORE_SECRET_KEY_ENV]: args.store?.secretAccessKey,
  };
}

/** `--store`, `--store-endpoint`, `--store-region` of `runbook snapshot`. */
function storeFlags(settings: StoreSettings | undefined): Record<string, string | undefined> {
  if (settings === undefined) return {};
  return {
    store: settings.url,
    "store-endpoint": settings.kind === "bucket" ? settings.endpoint : undefined,
    "store-region": settings.kind === "bucket" ? settings.region : undefined,
  };
}

/** The arguments a server snapshot (`runbook snapshot --all-databases`) does not take. */
function serverSnapshotRefuses(args: PostgresSnapshotArgs): string[] {
  return [
    ...(args.schemaVersionQuery === undefined ? [] : ["schemaVersionQuery"]),
    ...(args.store === undefined ? [] : ["store"]),
    ...((args.format ?? "directory") === "directory" ? [] : [`format ${args.format}`]),
  ];
}

/**
 * `runbook snapshot --all-databases`: the roles and every database of the DSN's server, one directory dump each,
 * with the Secrets and the Redis dataset inside it.
 */
function serverSnapshotInvocation(args: PostgresSnapshotArgs, name: pulumi.Output<string>) {
  return runbookInvocation(
    "snapshot",
    {
      "out-dir": args.dir,
      jobs: String(args.jobs ?? 2),
      compress: String(args.compression ?? 1),
      name,
      ...companionFlags(args),
      "context-json":
        args.context === undefined ? undefined : pulumi.output(args.context).apply((c) => JSON.stringify(c)),
    },
    ["all-databases", ...(args.protected ? ["protected"] : [])],
    snapshotEnvironment(args),
  );
}
