/**
 * Every child process the runbook starts gets an allowlisted environment (src/lib/child-env.ts): stand-ins on
 * PATH record the variable names they were given, and none of the runbook's own secrets, nor a variable the
 * child has no use for, may be among them.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runRestore } from "../../src/lib/rollback/run-restore";
import { dsnFor, realTool, recordedCalls, runCli, tempDir, toolWrapper } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";

const REDIS_URL = "redis://:redis-test-pw@127.0.0.1:16379";
const UNRELATED = "RUNBOOK_TEST_UNRELATED_VARIABLE";

/** What the runbook is started with besides PG_DSN: secrets for other children, and one variable nobody needs. */
const OTHER_SECRETS = {
  REGISTRY_PASSWORD: "registry-pw-not-for-children",
  RUNBOOK_REDIS_URL: REDIS_URL,
  [UNRELATED]: "nobody-needs-this",
};
const NEVER_INHERITED = ["PG_DSN", "REGISTRY_PASSWORD", "RUNBOOK_REDIS_URL", UNRELATED];

/** A stand-in for `tool` that writes the names of its parent's environment to LOG, then runs the real tool. */
function parentEnvironmentRecorder(tool: string): { binDir: string; log: string } {
  const binDir = tempDir(`parent-env-${tool}`);
  const log = path.join(binDir, "parent-env.log");
  fs.writeFileSync(
    path.join(binDir, tool),
    `#!/bin/bash\ntr '\\0' '\\n' < /proc/$PPID/environ | cut -d= -f1 >> '${log}'\nexec '${realTool(tool)}' "$@"\n`,
    { mode: 0o755 },
  );
  return { binDir, log };
}

/** A `pulumi` stand-in: records the names of its environment, answers `version`, refuses everything else. */
function fakePulumi(): { binDir: string; log: string } {
  const binDir = tempDir("fake-pulumi");
  const log = path.join(binDir, "env.log");
  fs.writeFileSync(
    path.join(binDir, "pulumi"),
    [
      "#!/bin/bash",
      `compgen -e >> '${log}'`,
      'if [ "$1" = version ]; then echo v3.248.0; exit 0; fi',
      'echo "fake pulumi: not answering $1" >&2',
      "exit 1",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { binDir, log };
}

function names(log: string): string[] {
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
}

describe("child processes get an allowlisted environment", function () {
  this.timeout(120_000);
  const { seeded } = postgresSuite();
  let database: string;

  before(async () => {
    database = await seeded("rr_childenv");
  });

  it("pg_dump, pg_restore and redis-cli get none of PG_DSN, REGISTRY_PASSWORD, RUNBOOK_REDIS_URL or an unrelated variable", async () => {
    const wrappers = ["pg_dump", "pg_restore", "redis-cli"].map((tool) => ({ tool, ...toolWrapper(tool) }));
    const run = await runCli(["snapshot", "--out-dir", tempDir("childenv-snap"), "--format", "custom", "--json"], {
      env: { PG_DSN: dsnFor(database), ...OTHER_SECRETS },
      pathPrefix: wrappers.map((w) => w.binDir),
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    for (const { tool, log } of wrappers) {
      const calls = recordedCalls(log);
      assert.ok(calls.length > 0, `${tool} was not called`);
      for (const call of calls) {
        for (const name of NEVER_INHERITED) assert.ok(!call.envNames.includes(name), `${tool} got ${name}`);
        assert.ok(call.envNames.includes("PATH"), `${tool} lost PATH`);
      }
    }
  });

  it("the `runbook restore` a rollback starts gets its DSN, but no other secret and no unrelated variable", async () => {
    const snapshotDir = tempDir("childenv-restore");
    const taken = await runCli(["snapshot", "--out-dir", snapshotDir, "--format", "custom", "--json"], {
      env: { PG_DSN: dsnFor(database) },
    });
    assert.equal(taken.code, 0, taken.stdout + taken.stderr);
    const recorder = parentEnvironmentRecorder("pg_dump");
    const env = {
      PATH: `${recorder.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
      HOME: process.env.HOME,
      LANG: "C.UTF-8",
      ...OTHER_SECRETS,
    };
    // Whether the restore succeeds does not matter here, only what its process was given.
    await runRestore(String(taken.json?.path), snapshotDir, dsnFor(database), env).catch(() => undefined);
    const restoreEnv = names(recorder.log);
    assert.ok(restoreEnv.length > 0, "the restore never ran pg_dump (its pre-restore snapshot)");
    assert.ok(restoreEnv.includes("PG_DSN"), "the restore needs its DSN");
    for (const name of ["REGISTRY_PASSWORD", "RUNBOOK_REDIS_URL", UNRELATED]) {
      assert.ok(!restoreEnv.includes(name), `the restore process got ${name}`);
    }
  });

  it("the pulumi CLI the Automation API starts gets PULUMI_* and PATH, none of the runbook's secrets", async () => {
    const pulumi = fakePulumi();
    const run = await runCli(["history", "--stack", "childenv", "--no-cluster", "--json"], {
      env: {
        PULUMI_CONFIG_PASSPHRASE: "passphrase-pulumi-needs",
        PULUMI_BACKEND_URL: `file://${tempDir("childenv-backend")}`,
        PG_DSN: dsnFor(database),
        ...OTHER_SECRETS,
      },
      pathPrefix: [pulumi.binDir],
    });
    const pulumiEnv = names(pulumi.log);
    assert.ok(pulumiEnv.length > 0, `the fake pulumi was never called: ${run.stdout}${run.stderr}`);
    for (const name of ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "PATH"]) {
      assert.ok(pulumiEnv.includes(name), `pulumi needs ${name}`);
    }
    for (const name of NEVER_INHERITED) assert.ok(!pulumiEnv.includes(name), `pulumi got ${name}`);
  });
});
