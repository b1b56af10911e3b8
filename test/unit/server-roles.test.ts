import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readSavedGlobals } from "../../src/lib/restore/server-roles";

/** The shapes pg_dumpall 15 --globals-only writes, quoted names and a membership's grantor included. */
const GLOBALS = `--
-- PostgreSQL database cluster dump
--

SET default_transaction_read_only = off;

--
-- Roles
--

CREATE ROLE app_owner;
ALTER ROLE app_owner WITH NOSUPERUSER INHERIT NOCREATEROLE CREATEDB LOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE "Odd ""Role"" name";
ALTER ROLE "Odd ""Role"" name" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:abc';
ALTER ROLE app_owner SET search_path TO 'app', 'public';
COMMENT ON ROLE app_owner IS 'not restored';

--
-- Role memberships
--

GRANT app_owner TO "Odd ""Role"" name" WITH ADMIN OPTION GRANTED BY postgres;
GRANT app_owner TO reader GRANTED BY postgres;
`;

describe("reading the roles of a server snapshot's globals.sql", () => {
  it("keeps each role's statements in order and its memberships without the grantor", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "globals-")), "globals.sql");
    fs.writeFileSync(file, GLOBALS);
    const globals = await readSavedGlobals(file);
    assert.deepEqual([...globals.roles.keys()], ["app_owner", 'Odd "Role" name']);
    assert.deepEqual(globals.roles.get("app_owner")!.statements, [
      "CREATE ROLE app_owner;",
      "ALTER ROLE app_owner WITH NOSUPERUSER INHERIT NOCREATEROLE CREATEDB LOGIN NOREPLICATION NOBYPASSRLS;",
      "ALTER ROLE app_owner SET search_path TO 'app', 'public';",
    ]);
    const odd = globals.roles.get('Odd "Role" name')!;
    assert.equal(odd.quoted, '"Odd ""Role"" name"');
    assert.match(odd.statements[1], /PASSWORD 'SCRAM-SHA-256/, "a saved password hash is kept");
    assert.deepEqual(globals.memberships, [
      {
        role: "app_owner",
        member: 'Odd "Role" name',
        statement: 'GRANT app_owner TO "Odd ""Role"" name" WITH ADMIN OPTION;',
      },
      { role: "app_owner", member: "reader", statement: "GRANT app_owner TO reader;" },
    ]);
  });
});
