import fs from "node:fs/promises";
import type { Client } from "pg";
import { childEnvironment } from "../child-env";
import { OperationFailed } from "../errors";
import type { PgConnection } from "../pg/connection";
import type { DatabaseProperties } from "../pg/database-properties";
import { runPgTool } from "../pg/tools";
import { runStatement } from "./maintenance";

/** One role as pg_dumpall --globals-only wrote it: the statements that create it and its memberships. */
export interface SavedRole {
  readonly name: string;
  /** The name as pg_dump quotes it (fmtId), which is how every dump's SQL refers to it. */
  readonly quoted: string;
  /** CREATE ROLE, ALTER ROLE ... WITH (with a password only when the snapshot holds them), ALTER ROLE ... SET. */
  readonly statements: string[];
}

export interface SavedMembership {
  readonly role: string;
  readonly member: string;
  /** `GRANT role TO member [WITH ADMIN OPTION]`, without GRANTED BY (the grantor may not exist here). */
  readonly statement: string;
}

export interface SavedGlobals {
  readonly roles: Map<string, SavedRole>;
  readonly memberships: SavedMembership[];
}

const IDENT = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CREATE_ROLE = new RegExp(`^CREATE ROLE ${IDENT};$`);
const ALTER_ROLE = new RegExp(`^ALTER ROLE ${IDENT} (WITH |SET |RESET ).*;$`);
const GRANT_ROLE = new RegExp(`^GRANT ${IDENT} TO ${IDENT}( WITH ADMIN OPTION)?(?: GRANTED BY ${IDENT})?;$`);

function unquote(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident;
}

/**
 * Reads the roles and memberships out of a snapshot's globals.sql. Only these line shapes are used (one
 * statement a line, as pg_dumpall writes them); tablespaces, comments and security labels are not restored.
 */
export async function readSavedGlobals(file: string): Promise<SavedGlobals> {
  const roles = new Map<string, SavedRole>();
  const memberships: SavedMembership[] = [];
  for (const line of (await fs.readFile(file, "utf8")).split("\n")) {
    const created = CREATE_ROLE.exec(line);
    if (created !== null) {
      const name = unquote(created[1]);
      roles.set(name, { name, quoted: created[1], statements: [line] });
      continue;
    }
    const altered = ALTER_ROLE.exec(line);
    if (altered !== null) {
      roles.get(unquote(altered[1]))?.statements.push(line);
      continue;
    }
    const granted = GRANT_ROLE.exec(line);
    if (granted !== null) {
      memberships.push({
        role: unquote(granted[1]),
        member: unquote(granted[2]),
        statement: `GRANT ${granted[1]} TO ${granted[2]}${granted[3] ?? ""};`,
      });
    }
  }
  return { roles, memberships };
}

/**
 * The roles a database needs to be restored as it was: its owner, the grantees and role settings of the
 * database itself, and every role its dump names as an owner or grantee (`OWNER TO r`, `GRANT ... TO r`,
 * `FOR ROLE r`, read from `pg_restore --schema-only`, which reads only the table of contents).
 */
export async function rolesNeededBy(
  dumpPath: string,
  properties: DatabaseProperties,
  globals: SavedGlobals,
  parentEnv: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const needed = new Set<string>([properties.owner]);
  for (const grant of properties.grants ?? []) if (grant.grantee !== null) needed.add(grant.grantee);
  for (const setting of properties.settings) if (setting.role !== null) needed.add(setting.role);
  const run = await runPgTool("pg_restore", ["--schema-only", "--file=-", dumpPath], {
    env: childEnvironment(parentEnv),
    signal,
  });
  if (run.code !== 0) {
    throw new OperationFailed(
      `pg_restore --schema-only ${dumpPath} failed (exit ${run.code ?? run.signal}): ${run.stderr.trim().split("\n").slice(-3).join("\n")}`,
    );
  }
  const sql = run.stdout;
  for (const role of globals.roles.values()) {
    const q = role.quoted.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (new RegExp(`(?:OWNER TO|TO|FROM|FOR ROLE|AUTHORIZATION) ${q}(?:;|,|\\s|$)`, "m").test(sql)) {
      needed.add(role.name);
    }
  }
  return needed;
}

/** The roles (of `wanted`, plus the roles they are members of, transitively) that the server lacks. */
export async function missingRoles(
  admin: Client,
  wanted: Iterable<string>,
  globals: SavedGlobals,
): Promise<{ create: string[]; unknown: string[] }> {
  const { rows } = await admin.query<{ rolname: string }>("select rolname from pg_roles");
  const present = new Set(rows.map((r) => r.rolname));
  const create = new Set<string>();
  const unknown: string[] = [];
  const queue = [...wanted];
  for (let role = queue.shift(); role !== undefined; role = queue.shift()) {
    if (present.has(role) || create.has(role)) continue;
    if (!globals.roles.has(role)) {
      unknown.push(role);
      continue;
    }
    create.add(role);
    // A role that was a member of another needs that one too, or it would come back with fewer privileges.
    for (const m of globals.memberships) if (m.member === role) queue.push(m.role);
  }
  return { create: [...create].sort(), unknown: unknown.sort() };
}

/**
 * Creates the roles from their saved statements, then every saved membership that involves one of them and
 * whose other side exists. Existing roles are never altered: their attributes and passwords are the server's.
 */
export async function createRoles(
  admin: Client,
  connection: PgConnection,
  names: readonly string[],
  globals: SavedGlobals,
): Promise<void> {
  const { rows } = await admin.query<{ rolname: string }>("select rolname from pg_roles");
  const present = new Set(rows.map((r) => r.rolname));
  const created = new Set(names);
  for (const name of names) {
    if (present.has(name)) continue; // created by an earlier run of this restore
    for (const sql of globals.roles.get(name)!.statements) {
      await runStatement(admin, connection, `creating role ${name} from the snapshot's globals`, sql);
    }
    present.add(name);
  }
  for (const m of globals.memberships) {
    if (!(created.has(m.role) || created.has(m.member)) || !present.has(m.role) || !present.has(m.member)) continue;
    await runStatement(admin, connection, `granting role ${m.role} to ${m.member}`, m.statement);
  }
}
