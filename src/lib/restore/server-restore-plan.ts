import path from "node:path";
import { UsageError } from "../errors";
import type { LoadedServerSnapshot } from "../snapshot/server-snapshot-files";
import type { ServerDatabaseEntry } from "../snapshot/server-manifest";

/**
 * The database the runbook's own lock and maintenance sessions live in: swapping it would end them, so a server
 * restore leaves it alone (pg_dumpall's replay does not recreate it either, it only adds to it).
 */
export const MAINTENANCE_DATABASE = "postgres";

/**
 * The databases a server restore restores, in the manifest's order: those named (each must be in the
 * snapshot), else all but `postgres`.
 */
export function selectDatabases(server: LoadedServerSnapshot, named: readonly string[]): ServerDatabaseEntry[] {
  const held = server.manifest.databases;
  const restorable = held.filter((d) => d.name !== MAINTENANCE_DATABASE);
  if (named.length === 0) {
    if (restorable.length === 0) {
      throw new UsageError(`${server.path} holds no database to restore but ${MAINTENANCE_DATABASE}`);
    }
    return restorable;
  }
  const unknown = named.filter((name) => !held.some((d) => d.name === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `--database ${unknown.join(", ")}: not in ${server.path}, which holds ${held.map((d) => d.name).join(", ")}`,
    );
  }
  if (named.includes(MAINTENANCE_DATABASE)) throw new UsageError(maintenanceRefusal(server));
  return held.filter((d) => named.includes(d.name));
}

function maintenanceRefusal(server: LoadedServerSnapshot): string {
  const entry = server.manifest.databases.find((d) => d.name === MAINTENANCE_DATABASE)!;
  return (
    `--database ${MAINTENANCE_DATABASE}: the runbook's lock and its CREATE/ALTER DATABASE sessions live in ` +
    `${MAINTENANCE_DATABASE}, so it cannot be swapped; restore what it holds by hand into the running one: ` +
    `pg_restore --dbname=${MAINTENANCE_DATABASE} --jobs=2 ${path.join(server.path, entry.directory)}`
  );
}

/** A line for the plan and the outcome: whether `postgres` was left out of "all". */
export function maintenanceNote(server: LoadedServerSnapshot, selected: readonly ServerDatabaseEntry[]): string[] {
  const held = server.manifest.databases.some((d) => d.name === MAINTENANCE_DATABASE);
  if (!held || selected.some((d) => d.name === MAINTENANCE_DATABASE)) return [];
  return [
    `not restored: ${MAINTENANCE_DATABASE} (${maintenanceRefusal(server).replace(/^--database postgres: /, "")})`,
  ];
}
