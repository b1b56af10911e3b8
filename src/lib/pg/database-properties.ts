import type { Client } from "pg";
import type { PgConnection } from "./connection";
import { queryFailed } from "./errors";

/**
 * A database's own properties that pg_dump leaves out unless it is run with --create: owner, encoding and
 * locale, tablespace, connection limit, GRANTs on the database and ALTER DATABASE / ALTER ROLE IN DATABASE
 * settings. A restore into a new database copies them so the swapped-in database behaves like the old one.
 */
export interface DatabaseProperties {
  readonly owner: string;
  readonly encoding: string;
  readonly collate: string;
  readonly ctype: string;
  /** "c" libc, "i" ICU, "b" builtin (PostgreSQL 17+); absent before PostgreSQL 15. */
  readonly localeProvider?: string;
  readonly providerLocale?: string;
  readonly tablespace: string;
  readonly connectionLimit: number;
  readonly allowConnections: boolean;
  /** null: the default privileges (PUBLIC may CONNECT and create TEMP tables). */
  readonly grants: { grantee: string | null; privilege: string; grantable: boolean }[] | null;
  readonly settings: { role: string | null; config: string[] }[];
}

export async function readDatabaseProperties(
  client: Client,
  connection: PgConnection,
  database: string,
): Promise<DatabaseProperties> {
  try {
    // to_jsonb(d) reads the locale columns whatever this server version calls them.
    const { rows } = await client.query(
      `select to_jsonb(d) as d, pg_get_userbyid(d.datdba) as owner, pg_encoding_to_char(d.encoding) as encoding,
              t.spcname as tablespace,
              case when d.datacl is null then null else
                (select coalesce(json_agg(json_build_object(
                          'grantee', case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end,
                          'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
                   from aclexplode(d.datacl) a) end as grants,
              (select coalesce(json_agg(json_build_object('role', r.rolname, 'config', s.setconfig)), '[]')
                 from pg_db_role_setting s left join pg_roles r on r.oid = s.setrole
                where s.setdatabase = d.oid) as settings
         from pg_database d join pg_tablespace t on t.oid = d.dattablespace
        where d.datname = $1`,
      [database],
    );
    const row = rows[0];
    const d = row.d as Record<string, unknown>;
    return {
      owner: row.owner,
      encoding: row.encoding,
      collate: String(d.datcollate),
      ctype: String(d.datctype),
      localeProvider: typeof d.datlocprovider === "string" ? d.datlocprovider : undefined,
      providerLocale: stringOrUndefined(d.datlocale ?? d.daticulocale),
      tablespace: row.tablespace,
      connectionLimit: Number(d.datconnlimit),
      allowConnections: d.datallowconn === true,
      grants: row.grants,
      settings: row.settings,
    };
  } catch (err) {
    throw queryFailed(`reading the properties of database ${database}`, err, connection);
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** CREATE DATABASE from template0 with the same owner, encoding, locale, tablespace and connection limit. */
export function createDatabaseStatement(client: Client, name: string, p: DatabaseProperties): string {
  const id = (s: string): string => client.escapeIdentifier(s);
  const lit = (s: string): string => client.escapeLiteral(s);
  const parts = [
    `CREATE DATABASE ${id(name)} WITH TEMPLATE template0 OWNER ${id(p.owner)} ENCODING ${lit(p.encoding)}`,
    `LC_COLLATE ${lit(p.collate)} LC_CTYPE ${lit(p.ctype)}`,
  ];
  if (p.localeProvider === "i" && p.providerLocale !== undefined) {
    parts.push(`LOCALE_PROVIDER icu ICU_LOCALE ${lit(p.providerLocale)}`);
  } else if (p.localeProvider === "b" && p.providerLocale !== undefined) {
    parts.push(`LOCALE_PROVIDER builtin BUILTIN_LOCALE ${lit(p.providerLocale)}`);
  }
  // Naming pg_default explicitly would need CREATE on it, which a CREATEDB role using the default lacks.
  if (p.tablespace !== "pg_default") parts.push(`TABLESPACE ${id(p.tablespace)}`);
  parts.push(`CONNECTION LIMIT ${p.connectionLimit}`);
  return parts.join(" ");
}

/** GRANTs (and the REVOKE from PUBLIC an explicit ACL implies) that give `name` the same database privileges. */
export function grantStatements(client: Client, name: string, p: DatabaseProperties): string[] {
  if (p.grants === null) return [];
  const db = client.escapeIdentifier(name);
  const statements = [`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`];
  for (const grant of p.grants) {
    const grantee = grant.grantee === null ? "PUBLIC" : client.escapeIdentifier(grant.grantee);
    const privilege = grant.privilege.replace(/[^A-Z ]/g, "");
    statements.push(`GRANT ${privilege} ON DATABASE ${db} TO ${grantee}${grant.grantable ? " WITH GRANT OPTION" : ""}`);
  }
  return statements;
}

/**
 * Settings whose values are lists stored with each element quoted as an identifier (GUC_LIST_QUOTE in the
 * server); each element becomes its own literal again, as pg_dumpall does.
 */
const LIST_SETTINGS = new Set([
  "search_path",
  "temp_tablespaces",
  "session_preload_libraries",
  "shared_preload_libraries",
  "local_preload_libraries",
  "unix_socket_directories",
]);

/** ALTER DATABASE … SET and ALTER ROLE … IN DATABASE … SET statements repeating the settings on `name`. */
export function settingStatements(client: Client, name: string, p: DatabaseProperties): string[] {
  const statements: string[] = [];
  for (const { role, config } of p.settings) {
    const target =
      role === null
        ? `ALTER DATABASE ${client.escapeIdentifier(name)}`
        : `ALTER ROLE ${client.escapeIdentifier(role)} IN DATABASE ${client.escapeIdentifier(name)}`;
    for (const entry of config) {
      const eq = entry.indexOf("=");
      const setting = entry.slice(0, eq);
      const raw = entry.slice(eq + 1);
      const values = LIST_SETTINGS.has(setting.toLowerCase()) ? splitQuotedList(raw) : [raw];
      const value = values.map((v) => client.escapeLiteral(v)).join(", ");
      statements.push(`${target} SET ${client.escapeIdentifier(setting)} TO ${value}`);
    }
  }
  return statements;
}

/** Splits `"$user", public, "a""b"` into [$user, public, a"b]. */
function splitQuotedList(text: string): string[] {
  const items: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        current += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      items.push(current);
      current = "";
    } else if (c !== " ") {
      current += c; // spaces outside quotes only separate; an unquoted identifier has none
    }
  }
  items.push(current);
  return items.filter((item) => item !== "");
}
