import path from "node:path";
import { OperationFailed } from "../errors";
import { PgConnection, withDatabase } from "../pg/connection";
import type { DatabaseProperties } from "../pg/database-properties";
import { dumpDatabase } from "./dump";
import { ServerDatabase, readAlembicVersion } from "./server-databases";
import { databaseDumpDir } from "./server-layout";
import type { ServerDatabaseEntry } from "./server-manifest";
import { restrictModes } from "./take-snapshot";
import { verifyArchive } from "./verify-archive";

/**
 * How many databases are dumped at the same time, each by a `pg_dump --jobs N`. Two keep both cores busy while
 * one dump is in its serial phases (connecting, reading the catalog, writing the TOC) and let the small
 * databases' start-up overlap the big ones' data copy; more would only add connections.
 */
const DATABASES_AT_ONCE = 2;

export interface DatabaseToDump extends ServerDatabase {
  readonly properties: DatabaseProperties;
}

export interface DatabaseDumpsRequest {
  /** Any database of the server: each dump connects with the same facts to its own database. */
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly databases: readonly DatabaseToDump[];
  /** The server snapshot's partial directory; each dump goes in its databaseDumpDir. */
  readonly snapshotDir: string;
  readonly jobs: number;
  readonly compress: number;
  readonly signal?: AbortSignal;
}

/**
 * Dumps every database (directory format, parallel), hashing it while it is written, and checks each with
 * pg_restore --list. The largest go first so that the small ones fill in at the end. The first failure stops
 * the other dumps and is what is thrown; the caller removes the partial directory.
 */
export async function dumpEachDatabase(request: DatabaseDumpsRequest): Promise<ServerDatabaseEntry[]> {
  const queue = [...request.databases].sort((a, b) => (b.sizeBytes ?? 0) - (a.sizeBytes ?? 0));
  const stop = new AbortController();
  const signal = request.signal === undefined ? stop.signal : AbortSignal.any([request.signal, stop.signal]);
  let firstFailure: unknown;
  const entries: ServerDatabaseEntry[] = [];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined && !signal.aborted; next = queue.shift()) {
      try {
        entries.push(await dumpOne(request, next, signal));
      } catch (err) {
        if (!signal.aborted) {
          firstFailure = err;
          stop.abort(err);
        }
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.min(DATABASES_AT_ONCE, queue.length) }, worker);
  await Promise.allSettled(workers);
  if (request.signal?.aborted) throw request.signal.reason ?? new OperationFailed("the snapshot was interrupted");
  if (firstFailure !== undefined) throw firstFailure;
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function dumpOne(
  request: DatabaseDumpsRequest,
  database: DatabaseToDump,
  signal: AbortSignal,
): Promise<ServerDatabaseEntry> {
  const connection = withDatabase(request.connection, database.name);
  const directory = databaseDumpDir(database.name);
  const dumpPath = path.join(request.snapshotDir, directory);
  try {
    const schemaVersion = await readAlembicVersion(connection);
    const dump = await dumpDatabase({
      connection,
      parentEnv: request.parentEnv,
      format: "directory",
      jobs: request.jobs,
      compress: request.compress,
      partialPath: dumpPath,
      signal,
    });
    await restrictModes(dumpPath, "directory");
    const verifyStarted = Date.now();
    const tocEntries = await verifyArchive(dumpPath, request.parentEnv, signal);
    return {
      name: database.name,
      directory,
      sha256: dump.digest.sha256,
      bytes: dump.digest.bytes,
      files: dump.digest.files ?? [],
      tocEntries,
      schemaVersion,
      properties: database.properties,
      durations: { dumpMs: dump.dumpMs, hashMs: dump.hashMs, verifyMs: Date.now() - verifyStarted },
    };
  } catch (err) {
    if (signal.aborted || !(err instanceof OperationFailed)) throw err;
    throw new OperationFailed(`database ${database.name}: ${err.message}`, err.detail);
  }
}
