import type { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { REDIS_URL_ENV, redisSourceFromUrl } from "../../lib/redis/source";
import { isSecretName, namespaceNameProblem } from "../../lib/kube";
import { LockRequest, withOperationLock } from "../../lib/lock/operation-lock";
import { connectionFromEnv } from "../../lib/pg/connection";
import { CompanionRequest, describeCompanion } from "../../lib/snapshot/companions";
import { withInterruption } from "../../lib/snapshot/interruption";
import { exists } from "../../lib/snapshot/durable-fs";
import { SNAPSHOT_FORMATS, SnapshotFormat, checkSnapshotName, snapshotLayout } from "../../lib/snapshot/layout";
import { SnapshotOutcome, takeSnapshot } from "../../lib/snapshot/take-snapshot";
import { keepInStore } from "../../lib/snapshot-store/keep-in-store";
import type { StoredSnapshot } from "../../lib/snapshot-store/upload-snapshot";
import { KUBE_CONTEXT_ENV } from "../dsn-from-secret";
import { STORE_HELP, STORE_OPTIONS, storeFromFlags } from "../store-flags";
import { refuseServerOnlyFlags, runServerSnapshot } from "./snapshot-all-databases";

/**
 * Defaults chosen by measurement (PostgreSQL 15, 2 cores, an 826 MB database; bench/snapshot.ts repeats it):
 * compression level dominates dump time. `-Fc` at gzip 6 took 14.5 s, `-Fd -j2` at gzip 6 9.1 s, `-Fd -j2 -Z1`
 * 4.0 s, about as fast as an uncompressed plain dump (3.5 s) at 37% of its size, and it restores in parallel.
 */
const DEFAULT_FORMAT: SnapshotFormat = "directory";
const DEFAULT_JOBS = 2;
const DEFAULT_COMPRESS = 1;
const MAX_JOBS = 64;
const MAX_CONTEXT_BYTES = 64 * 1024;

const help = `usage: runbook snapshot --out-dir DIR [options]
       runbook snapshot --all-databases --out-dir DIR [--jobs N] [--compress N] [--with-role-passwords]
                        [--include-database PATTERN]... [--exclude-database PATTERN]... [--name NAME]
                        [--kube-secrets A,B --kube-namespace NS] [--json]

Dumps the database named by PG_DSN with pg_dump into DIR, atomically: pg_dump writes a hidden
.NAME.partial-PID, which is hashed while it is written, checked with pg_restore --list, flushed to disk and
renamed into place, next to a manifest NAME.manifest.json. Files are mode 0600, directories 0700. On any
failure or interruption the partial is removed and DIR holds nothing new.
If NAME already exists with a valid manifest, nothing is dumped and that snapshot is reported (idempotent).

options:
  --out-dir DIR                 directory for the snapshot and its manifest (created 0700 if missing)
  --format custom|directory     pg_dump format (default ${DEFAULT_FORMAT}): directory → DIR/NAME/, dumped in
                                parallel; custom → one file DIR/NAME.dump
  --jobs N                      parallel pg_dump workers, directory format only (default ${DEFAULT_JOBS})
  --compress 0-9                gzip level (default ${DEFAULT_COMPRESS}: the fastest; 6 is pg_dump's default)
  --name NAME                   snapshot name (default <database>-<UTC time>, e.g. appdb-20240501T120000Z;
                                -2, -3... appended when that name is taken)
  --context-json JSON           a JSON object stored as the manifest's "context" (release, namespace, fromTags,
                                toTags, fromChartVersion, toChartVersion, releaseRevision, ...)
  --schema-version-query SQL    read-only query whose first column of the first row is the application's
                                schema version, recorded as schemaVersion
  --kube-secrets A,B            also save these Kubernetes Secrets (em-runtime: em-runtime-secrets,
                                infisical-bootstrap-secret) as DIR/NAME.secrets.json, a List that
                                \`kubectl apply -f\` restores; needs --kube-namespace
  --kube-namespace NS           the namespace of --kube-secrets
  --protected                   a protected stack: refuse an --out-dir that its group or other users
                                can get at (otherwise a warning), before anything is written
  --json                        print one JSON object: name, path, manifestPath, sha256, bytes, format,
                                serverVersion, serverVersionNum, schemaVersion, pgDumpVersion, createdAt,
                                durations, reused, companions, store (with --store), warnings (when any)
  -h, --help                    this text

${STORE_HELP}
With --store, once the snapshot is committed in DIR (or found there already), its files are uploaded, each
read back and checked against the sha256 its manifest records, and the manifest is uploaded last, so a
snapshot the store lists is complete. A store already holding this manifest is left as it is. A failed
upload fails the command (exit 1) and leaves the local snapshot in DIR; run the command again to upload it.

every database on the server (em-runtime's pg_dumpall), PG_DSN naming any database of it:
  --all-databases               save the roles and tablespaces (pg_dumpall --globals-only) as
                                DIR/NAME/globals.sql and every database that is not a template and accepts
                                connections (postgres included) as a directory-format dump
                                DIR/NAME/databases/<database>/, with the manifest DIR/NAME/manifest.json
                                (each database's sha256, size, owner, alembic_version, timings). Written as
                                .NAME.partial-PID and renamed once when all of it is dumped, checked and
                                flushed. Default NAME all-databases-<UTC time>. --jobs and --compress apply
                                to each database's pg_dump. --kube-secrets and ${REDIS_URL_ENV} are saved
                                as for one database, but inside the snapshot: DIR/NAME/secrets.json and
                                DIR/NAME/redis.rdb, listed in its manifest with their sha256 and size
  --with-role-passwords         also save the roles' password hashes (needs a superuser); by default roles
                                are saved without them (--no-role-passwords) and need passwords set after a
                                restore
  --exclude-database PATTERN    leave out the databases whose name matches (repeatable; * and ? as in
                                pg_dumpall's --exclude-database)
  --include-database PATTERN    save only the databases whose name matches (repeatable; same patterns),
                                then leave out those --exclude-database matches

environment:
  PG_DSN    postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE (required; never passed on argv:
            pg_dump gets PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE... instead)
  PATH      must hold pg_dump and pg_restore of at least the server's major version (and redis-cli
            when its backup is asked for)
  KUBECONFIG  the kubeconfig naming the cluster of --kube-secrets (default ~/.kube/config)
  ${KUBE_CONTEXT_ENV}   kubeconfig context for --kube-secrets (default: the current context)
  ${REDIS_URL_ENV}      also save this Redis server's dataset as DIR/NAME.redis.rdb (redis-cli --rdb):
            redis://[USER]:PASSWORD@HOST:PORT, rediss:// for TLS; the password reaches redis-cli
            only as REDISCLI_AUTH in its environment

One operation at a time: the snapshot holds the runbook lock on the database (see 'runbook unlock --help')
and fails at once, naming the holder, while another snapshot, restore or rollback of it runs.

sha256: of the file (custom), or of the sorted lines "<file>\\t<sha256 of file>\\n" of the directory's
files (directory); the manifest records the method and, for a directory, each file's sha256.

exit codes: 0 snapshot taken or already present, 1 it failed (nothing left behind) or another runbook
            operation holds the lock on the database, 2 bad usage or PG_DSN`;

export const snapshotCommand: CliCommand = {
  name: "snapshot",
  summary: "dump the database in PG_DSN atomically with a manifest (sha256, versions, context)",
  help,
  options: {
    "out-dir": { type: "string" },
    format: { type: "string" },
    jobs: { type: "string" },
    compress: { type: "string" },
    name: { type: "string" },
    "context-json": { type: "string" },
    "schema-version-query": { type: "string" },
    "kube-secrets": { type: "string" },
    "kube-namespace": { type: "string" },
    protected: { type: "boolean" },
    "all-databases": { type: "boolean" },
    "with-role-passwords": { type: "boolean" },
    "exclude-database": { type: "string", multiple: true },
    ...STORE_OPTIONS,
    "include-database": { type: "string", multiple: true },
  },
  async run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const outDir = values["out-dir"];
    if (typeof outDir !== "string" || outDir === "") throw new UsageError("--out-dir DIR is required");
    const format = parseFormat(values.format);
    const jobs = parseInteger("--jobs", values.jobs, DEFAULT_JOBS, 1, MAX_JOBS);
    if (format === "custom" && values.jobs !== undefined && jobs !== 1) {
      throw new UsageError("--jobs works only with --format directory: pg_dump writes the custom format serially");
    }
    const compress = parseInteger("--compress", values.compress, DEFAULT_COMPRESS, 0, 9);
    const name = typeof values.name === "string" ? checkSnapshotName(values.name) : undefined;
    const context = parseContext(values["context-json"]);
    const store = storeFromFlags(values);
    const companions = parseCompanions(values, env);
    if (values["all-databases"] === true) {
      if (store !== undefined) {
        throw new UsageError("--store does not go with --all-databases yet: copy DIR/NAME/ to the store yourself");
      }
      const protectedStack = values.protected === true;
      const common = { outDir, format, jobs, compress, name, context, companions, protectedStack };
      return runServerSnapshot(values, env, common);
    }
    refuseServerOnlyFlags(values);
    const query = values["schema-version-query"];
    const schemaVersionQuery = typeof query === "string" && query.trim() !== "" ? query : undefined;
    const connection = connectionFromEnv(env);

    const lock = { connection, database: connection.database, command: "snapshot" };
    // A named snapshot that is already there is reported (or refused), never dumped again: that needs neither
    // the server nor its lock, so a re-run answers even while the server is down.
    const locked = name !== undefined && (await dumpExists(outDir, name)) ? withoutLock : withOperationLock;
    const outcome = await locked(lock, () =>
      withInterruption("the snapshot", (signal) =>
        takeSnapshot({
          connection,
          parentEnv: env,
          outDir,
          name,
          format,
          jobs,
          compress,
          schemaVersionQuery,
          context,
          companions,
          protectedStack: values.protected === true,
          signal,
        }),
      ),
    );
    const stored =
      store === undefined
        ? undefined
        : await withInterruption("the upload", (signal) => keepInStore(store, outcome, env, signal));
    return { ok: true, json: snapshotJson(outcome, stored), text: snapshotText(outcome, stored) };
  },
};

async function dumpExists(outDir: string, name: string): Promise<boolean> {
  const layout = snapshotLayout(outDir, name);
  return (await exists(layout.finalPath("custom"))) || (await exists(layout.finalPath("directory")));
}

function withoutLock<T>(_lock: LockRequest, work: () => Promise<T>): Promise<T> {
  return work();
}

function parseFormat(value: ParsedValues[string]): SnapshotFormat {
  if (value === undefined) return DEFAULT_FORMAT;
  if (typeof value === "string" && (SNAPSHOT_FORMATS as readonly string[]).includes(value))
    return value as SnapshotFormat;
  throw new UsageError(`--format '${String(value)}' is not a format: use custom or directory`);
}

function parseInteger(flag: string, value: ParsedValues[string], fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag} '${String(value)}' is not usable: give a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

function parseCompanions(values: ParsedValues, env: NodeJS.ProcessEnv): CompanionRequest {
  const list = values["kube-secrets"];
  const namespace = values["kube-namespace"];
  let kubeSecrets: CompanionRequest["kubeSecrets"];
  if (typeof list === "string" && list.trim() !== "") {
    const names = [
      ...new Set(
        list
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n !== ""),
      ),
    ];
    const bad = names.filter((n) => !isSecretName(n));
    if (bad.length > 0) {
      throw new UsageError(
        `--kube-secrets: ${bad.map((n) => `'${n}'`).join(", ")} is not a Secret name: use lower-case DNS names, comma-separated`,
      );
    }
    if (typeof namespace !== "string" || namespace === "") {
      throw new UsageError("--kube-secrets needs --kube-namespace NS: the namespace the Secrets are in");
    }
    const problem = namespaceNameProblem(namespace);
    if (problem !== undefined) throw new UsageError(`--kube-namespace '${namespace}' ${problem}`);
    const context = env[KUBE_CONTEXT_ENV];
    kubeSecrets = { names, target: { namespace, ...(context ? { context } : {}) } };
  } else if (typeof namespace === "string" && namespace !== "") {
    throw new UsageError(
      "--kube-namespace is only used with --kube-secrets: name the Secrets to save, or leave it out",
    );
  }
  const redisUrl = env[REDIS_URL_ENV];
  const redis = redisUrl === undefined || redisUrl.trim() === "" ? undefined : redisSourceFromUrl(redisUrl.trim());
  return { ...(kubeSecrets === undefined ? {} : { kubeSecrets }), ...(redis === undefined ? {} : { redis }) };
}

function parseContext(value: ParsedValues[string]): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (Buffer.byteLength(text) > MAX_CONTEXT_BYTES) {
    throw new UsageError(`--context-json is larger than ${MAX_CONTEXT_BYTES / 1024} KiB: pass only the release facts`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--context-json is not valid JSON (${(err as Error).message}): pass a JSON object`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('--context-json must be a JSON object, e.g. {"release":"alexandria-ee","toTags":{...}}');
  }
  return parsed as Record<string, unknown>;
}

function snapshotJson(outcome: SnapshotOutcome, stored?: StoredSnapshot): Record<string, unknown> {
  const m = outcome.manifest;
  return {
    ok: true,
    name: m.name,
    path: outcome.path,
    manifestPath: outcome.manifestPath,
    sha256: m.sha256,
    bytes: m.bytes,
    format: m.format,
    serverVersion: m.serverVersion,
    serverVersionNum: m.serverVersionNum,
    schemaVersion: m.schemaVersion,
    pgDumpVersion: m.pgDumpVersion,
    createdAt: m.createdAt,
    durations: m.durations,
    reused: outcome.reused,
    companions: m.companions ?? [],
    ...(stored === undefined ? {} : { store: stored }),
    ...(outcome.warnings === undefined ? {} : { warnings: outcome.warnings }),
  };
}

function snapshotText(outcome: SnapshotOutcome, stored?: StoredSnapshot): string {
  const m = outcome.manifest;
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    outcome.reused
      ? `snapshot ${m.name} already exists (taken ${m.createdAt}); not dumped again`
      : `snapshot ${m.name} taken: dump ${seconds(m.durations.dumpMs)}, hash +${seconds(m.durations.hashMs)}, verify ${seconds(m.durations.verifyMs)}`,
    `path:      ${outcome.path} (${m.format}, ${(m.bytes / 1048576).toFixed(1)} MiB, ${m.tocEntries} TOC entries)`,
    `sha256:    ${m.sha256}`,
    `manifest:  ${outcome.manifestPath}`,
    `source:    ${m.source.user}@${m.source.host}:${m.source.port}/${m.source.database}, PostgreSQL ${m.serverVersion}`,
  ];
  if (m.schemaVersion !== null) lines.push(`schema:    ${m.schemaVersion}`);
  for (const c of m.companions ?? []) lines.push(`also:      ${describeCompanion(c)}`);
  if (stored !== undefined) {
    lines.push(
      stored.alreadyStored
        ? `store:     ${stored.manifestUrl} (already there)`
        : `store:     ${stored.manifestUrl} (${stored.objects} objects uploaded, each read back and checked)`,
    );
  }
  for (const warning of outcome.warnings ?? []) lines.push(`warning:   ${warning}`);
  return lines.join("\n");
}
