import type { Client } from "pg";
import { OperationFailed } from "../errors";
import { PG_DSN_ENV, PgConnection } from "./connection";
import { queryFailed } from "./errors";

export interface RolePrivileges {
  readonly role: string;
  readonly superuser: boolean;
  readonly createdb: boolean;
  /** The database's owner, and whether the current role is (a member of) it: needed to rename the database. */
  readonly databaseOwner: string;
  readonly ownsDatabase: boolean;
}

export async function readRolePrivileges(
  client: Client,
  connection: PgConnection,
  database: string,
): Promise<RolePrivileges> {
  try {
    const { rows } = await client.query(
      `select r.rolname as role, r.rolsuper as superuser, r.rolcreatedb as createdb,
              pg_get_userbyid(d.datdba) as database_owner, pg_has_role(current_user, d.datdba, 'MEMBER') as owns_database
         from pg_roles r, pg_database d
        where r.rolname = current_user and d.datname = $1`,
      [database],
    );
    if (rows.length === 0)
      throw new OperationFailed(`database ${database} does not exist on ${connection.host}:${connection.port}`);
    const row = rows[0];
    return {
      role: row.role,
      superuser: row.superuser,
      createdb: row.createdb,
      databaseOwner: row.database_owner,
      ownsDatabase: row.owns_database,
    };
  } catch (err) {
    if (err instanceof OperationFailed) throw err;
    throw queryFailed("reading the role's privileges", err, connection);
  }
}

/**
 * What a restore by swapping databases needs, checked before anything changes: CREATEDB (or superuser) for
 * the scratch database, and ownership of the target to rename it. Returns every missing privilege at once.
 */
export function restorePrivilegeProblems(privileges: RolePrivileges, database: string): string[] {
  if (privileges.superuser) return [];
  const problems: string[] = [];
  if (!privileges.createdb) {
    problems.push(
      `role ${privileges.role} lacks the CREATEDB privilege, which the restore needs to restore into a scratch ` +
        `database first: grant it (ALTER ROLE "${privileges.role}" CREATEDB, as a superuser) or set ${PG_DSN_ENV} ` +
        "to a role that has it",
    );
  }
  if (!privileges.ownsDatabase) {
    problems.push(
      `role ${privileges.role} does not own database ${database} (owner: ${privileges.databaseOwner}), so it cannot ` +
        `rename it: set ${PG_DSN_ENV} to the owner or a superuser, or GRANT "${privileges.databaseOwner}" TO "${privileges.role}"`,
    );
  }
  return problems;
}
