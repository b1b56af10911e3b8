/**
 * The manifest's schema version is read inside the snapshot pg_dump dumps (pg_export_snapshot and
 * pg_dump --snapshot): a migration committed between the version read and the dump cannot make the two
 * disagree. The stand-in pg_dump commits such a migration just before running the real one.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { postgresSuite } from "../support/postgresSuite";
import {
  ADMIN,
  PG_HOST,
  PG_PORT,
  dsnFor,
  realTool,
  recordedCalls,
  runCli,
  tempDir,
  toolWrapper,
} from "../support/postgres";

describe("snapshot: the schema version and the dump come from one database snapshot", function () {
  this.timeout(120_000);
  const databases = postgresSuite();

  it("a migration committed between the version read and the dump is in neither", async () => {
    const db = await databases.seeded("rr_schema_snap");
    // What a concurrent migration does: commits a new schema version while the snapshot is being taken.
    const migrate =
      `PGPASSWORD='${ADMIN.password}' '${realTool("psql")}' -h ${PG_HOST} -p ${PG_PORT} -U ${ADMIN.user} -d ${db} ` +
      `-qc "insert into schema_migrations (version) values ('20241201_concurrent')" >/dev/null`;
    const wrapper = toolWrapper(
      "pg_dump",
      `case "$*" in *--version*) ;; *) ${migrate} ;; esac\nexec '${realTool("pg_dump")}' "$@"`,
    );
    const outDir = tempDir("schema-consistency-");
    const run = await runCli(
      [
        "snapshot",
        "--out-dir",
        outDir,
        "--format",
        "custom",
        "--schema-version-query",
        "select max(version) from schema_migrations",
        "--json",
      ],
      { env: { PG_DSN: dsnFor(db) }, pathPrefix: [wrapper.binDir] },
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const dumpCall = recordedCalls(wrapper.log).find((c) => !c.argv.includes("--version"));
    assert.ok(
      dumpCall?.argv.some((a) => a.startsWith("--snapshot=")),
      JSON.stringify(dumpCall?.argv),
    );
    // The dump's own schema_migrations rows, read from the archive.
    const rows = execFileSync(
      realTool("pg_restore"),
      ["--data-only", "--table=schema_migrations", "-f", "-", String(run.json?.path)],
      {
        encoding: "utf8",
      },
    );
    assert.ok(!rows.includes("20241201_concurrent"), "the dump holds the migration committed after its snapshot");
    assert.equal(run.json?.schemaVersion, "20240315_events");
    assert.ok(path.isAbsolute(String(run.json?.path)));
  });
});
