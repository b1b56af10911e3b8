import path from "node:path";
import type { PgConnection } from "../pg/connection";
import type { LoadedServerSnapshot } from "../snapshot/server-snapshot-files";
import { databaseExists } from "./database-swap";
import { withMaintenance } from "./maintenance";
import { missingRoles, readSavedGlobals, rolesNeededBy } from "./server-roles";
import { maintenanceNote, selectDatabases } from "./server-restore-plan";

/**
 * What a server restore would do, for a run without --yes: reads the snapshot and which databases and roles the
 * server has (read-only), and changes nothing.
 */
export async function describeServerRestore(request: {
  readonly connection: PgConnection;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly snapshot: LoadedServerSnapshot;
  readonly databases: readonly string[];
  readonly preRestoreDir?: string;
}): Promise<string> {
  const server = request.snapshot;
  const m = server.manifest;
  const selected = selectDatabases(server, request.databases);
  const globals = await readSavedGlobals(path.join(server.path, m.globals.file));
  const needed = new Set<string>();
  for (const entry of selected) {
    const roles = await rolesNeededBy(
      path.join(server.path, entry.directory),
      entry.properties,
      globals,
      request.parentEnv,
    );
    for (const role of roles) needed.add(role);
  }
  const { present, roles } = await withMaintenance(request.connection, async (admin) => {
    const found = new Set<string>();
    for (const entry of selected) if (await databaseExists(admin, entry.name)) found.add(entry.name);
    return { present: found, roles: await missingRoles(admin, needed, globals) };
  });
  const target = `${request.connection.host}:${request.connection.port}`;
  const dir = request.preRestoreDir ?? path.dirname(server.path);
  const lines = [
    `would restore ${selected.length} of the ${m.databases.length} databases of the server snapshot ${server.path} ` +
      `(taken ${m.createdAt}, PostgreSQL ${m.serverVersion}) onto ${target}:`,
    `  1. check the sha256 of the snapshot's roles file and of each database's dump, and the server version`,
    roles.create.length === 0
      ? `  2. roles: the server has every role they need`
      : `  2. create the roles the server lacks, from the snapshot (${m.globals.rolePasswords ? "with" : "without"} passwords): ${roles.create.join(", ")}`,
    ...(roles.unknown.length === 0
      ? []
      : [`     refused: roles neither on the server nor in the snapshot: ${roles.unknown.join(", ")}`]),
    `  3. then one database at a time, each as 'runbook restore' does it (a snapshot of it first into ${dir}, a scratch database, the swap):`,
    ...selected.map((d) =>
      present.has(d.name)
        ? `     ${d.name}: present; swapped for the restored copy (the current one kept, renamed)`
        : `     ${d.name}: missing; created empty (owner ${d.properties.owner}, with its grants and settings), then restored`,
    ),
    `a server journal in ${dir} records which databases are done, for --resume or --abort should it die halfway`,
    ...maintenanceNote(server, selected),
  ];
  return lines.join("\n");
}
