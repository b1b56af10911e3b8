import fs from "node:fs/promises";
import path from "node:path";
import { OperationFailed, UsageError } from "../errors";
import { digestSnapshot } from "./digest";
import { DIGEST_METHODS } from "./digest";
import { MANIFEST_VERSION, SnapshotManifest } from "./manifest";
import { DATABASES_DIR, serverManifestPath } from "./server-layout";
import { ServerDatabaseEntry, ServerSnapshotManifest, isServerManifest, readServerManifest } from "./server-manifest";

/**
 * One database's dump as the single-database restore reads a snapshot: the same shape as check-snapshot.ts's
 * LoadedSnapshot, declared here so that check-snapshot.ts can import this file without a cycle.
 */
export interface DatabaseDumpSnapshot {
  readonly path: string;
  readonly manifestPath: string;
  readonly manifest: SnapshotManifest;
}

/** A server snapshot (`runbook snapshot --all-databases`) found from --snapshot, with its manifest. */
export interface LoadedServerSnapshot {
  readonly path: string;
  readonly manifestPath: string;
  readonly manifest: ServerSnapshotManifest;
}

/**
 * The server snapshot --snapshot names (its directory or its manifest.json), or undefined when the path is not
 * one (a single-database snapshot); a server manifest that cannot be used is refused.
 */
export async function findServerSnapshot(snapshotArg: string): Promise<LoadedServerSnapshot | undefined> {
  const given = path.resolve(snapshotArg).replace(/\/+$/, "");
  const dir = path.basename(given) === "manifest.json" ? path.dirname(given) : given;
  const manifestPath = serverManifestPath(dir);
  const stat = await fs.stat(manifestPath).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) return undefined;
  const manifest = await readServerManifest(manifestPath);
  if (!isServerManifest(manifest)) {
    throw new OperationFailed(`cannot restore ${snapshotArg}: its manifest ${manifest.problem}`);
  }
  return { path: dir, manifestPath, manifest };
}

/**
 * One database's dump inside a server snapshot as the single-database restore reads a snapshot: its manifest
 * is made from the server manifest's entry (same sha256 method, the entry's database as the source), so the
 * restore's checks, its journal and --resume work on it unchanged.
 */
export function databaseSnapshot(server: LoadedServerSnapshot, entry: ServerDatabaseEntry): DatabaseDumpSnapshot {
  const m = server.manifest;
  const dumpPath = path.join(server.path, entry.directory);
  const manifest: SnapshotManifest = {
    manifestVersion: MANIFEST_VERSION,
    name: `${m.name}/${entry.directory}`,
    path: dumpPath,
    format: "directory",
    sha256: entry.sha256,
    sha256Method: DIGEST_METHODS.directory,
    bytes: entry.bytes,
    files: entry.files,
    tocEntries: entry.tocEntries,
    createdAt: m.createdAt,
    durations: entry.durations,
    source: { ...m.source, database: entry.name },
    serverVersion: m.serverVersion,
    serverVersionNum: m.serverVersionNum,
    schemaVersion: entry.schemaVersion,
    pgDumpVersion: m.pgDumpVersion,
    dumpOptions: { jobs: m.dumpOptions.jobs, compress: m.dumpOptions.compress },
    context: { ...(m.context ?? {}), serverSnapshot: server.path, serverSnapshotSha256: m.sha256 },
  };
  return { path: dumpPath, manifestPath: server.manifestPath, manifest };
}

/**
 * `S/databases/<dir>` of a server snapshot S as a LoadedSnapshot, or undefined when the path is not inside one:
 * how a restore's journal, which names that path, finds its snapshot again on --resume.
 */
export async function loadServerDatabaseDump(snapshotArg: string): Promise<DatabaseDumpSnapshot | undefined> {
  const given = path.resolve(snapshotArg).replace(/\/+$/, "");
  if (path.basename(path.dirname(given)) !== DATABASES_DIR) return undefined;
  const server = await findServerSnapshot(path.dirname(path.dirname(given)));
  if (server === undefined) return undefined;
  const entry = server.manifest.databases.find((d) => path.join(server.path, d.directory) === given);
  if (entry === undefined) {
    throw new UsageError(`${snapshotArg} is not one of the databases ${server.manifestPath} lists`);
  }
  return databaseSnapshot(server, entry);
}

/** Whether globals.sql is the file the manifest recorded; the roles are read from it. */
export async function checkGlobals(server: LoadedServerSnapshot): Promise<string | undefined> {
  const file = path.join(server.path, server.manifest.globals.file);
  const digest = await digestSnapshot(file).catch(() => undefined);
  if (digest?.sha256 === server.manifest.globals.sha256) return undefined;
  return (
    `${file} does not match ${server.manifestPath} (sha256 ${digest?.sha256 ?? "unreadable"}, the manifest says ` +
    `${server.manifest.globals.sha256}); the snapshot was changed or damaged after it was taken`
  );
}
