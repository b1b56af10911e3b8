/**
 * `npm run bench:server-snapshot`: `runbook snapshot --all-databases` against what em-runtime's guide runs,
 * `pg_dumpall > file`, on a server of over 1 GB in six databases named after em-runtime's (three with an
 * alembic_version table), generated once in the test server of test/services/postgres.sh and reused.
 *
 * The test server also holds other databases (the tests', the single-database benchmark's); both commands leave
 * out the same ones with --exclude-database, listed again before each run, so both dump the same server. A run
 * that fails because another client's database came or went during it is repeated (at most twice). Runs alternate in ABBA order and the
 * median of five is reported; `sync` runs (untimed) before each run so that neither pays for the other's
 * dirty pages. Each command's own CPU time (its processes, not the server's backends) is shown next to its wall
 * time: on a busy machine it tells what the command costs apart from the wait for a core.
 *
 * Then the way back, onto an empty second cluster (bench/support/scratch-server.ts; the databases and roles
 * must not exist, as on a server rebuilt after a loss): the guide's `psql -f backup-pre-upgrade.sql` replay of the
 * last pg_dumpall file against `runbook restore --snapshot <last server snapshot> --yes` (parallel pg_restore of
 * each database, with the runbook's safety: roles, pre-restore snapshot, scratch-then-swap, journals), the
 * server wiped and `sync` run before each, ABBA order, median of three. The last lines are
 * `server snapshot/pg_dumpall time ratio: R`, `server snapshot/pg_dumpall size ratio: S` and
 * `restore/psql replay time ratio: T`.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { ADMIN, PG_HOST, PG_PORT, REPO_ROOT, buildCli, dsnFor, requirePostgres } from "../test/support/postgres";
import { GB, GeneratedDatabase, connect, ensureDatabase } from "./support/generated-database";
import { removeScratchServer, startScratchServer, wipeScratchServer } from "./support/scratch-server";
import { Timed, baseEnv, fresh, median, mib, timed } from "./support/timing";

const PREFIX = "runbook_bench_srv_";
/** About em-runtime's proportions: the services' own databases larger than the identity and secret stores. */
const SERVER: readonly (GeneratedDatabase & { alembic?: string })[] = [
  { name: `${PREFIX}governance`, targetBytes: 0.3 * GB, alembic: "4f2a9c1d7e30" },
  { name: `${PREFIX}assets`, targetBytes: 0.25 * GB, alembic: "b81e0c55a9d2" },
  { name: `${PREFIX}keycloak`, targetBytes: 0.2 * GB },
  { name: `${PREFIX}infisical`, targetBytes: 0.15 * GB },
  { name: `${PREFIX}openfga`, targetBytes: 0.1 * GB },
  { name: `${PREFIX}utils`, targetBytes: 0.06 * GB, alembic: "0d93e7a4c1b8" },
];
const JOBS = 2;
const COMPRESS = 1;
const RUNS = 5;
const RESTORE_RUNS = 3;
const ATTEMPTS = 3;
const WORK_DIR = path.join(process.env.RUNBOOK_TEST_STATE ?? "/tmp/release-runbook-test", "bench-server");

async function ensureAlembicVersion(database: string, version: string): Promise<void> {
  const client = await connect(database);
  try {
    await client.query("create table if not exists alembic_version (version_num varchar(32) primary key)");
    await client.query("delete from alembic_version");
    await client.query("insert into alembic_version values ($1)", [version]);
  } finally {
    await client.end();
  }
}

/** psql's pattern quoting: the exact name, whatever characters it has. */
const exactPattern = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Every connectable database that is not the benchmark's server or postgres, and the tests' to come. */
async function otherDatabases(): Promise<string[]> {
  const client = await connect("postgres");
  try {
    const { rows } = await client.query<{ datname: string }>(
      "select datname from pg_database where datallowconn and not datistemplate order by 1",
    );
    const ours = new Set([...SERVER.map((d) => d.name), "postgres"]);
    return [
      ...rows
        .map((r) => r.datname)
        .filter((n) => !ours.has(n))
        .map(exactPattern),
      "rr_*",
    ];
  } finally {
    await client.end();
  }
}

function excludeArgs(patterns: readonly string[]): string[] {
  return patterns.flatMap((p) => ["--exclude-database", p]);
}

/** The guide's `pg_dumpall -h $PG_HOST -U postgres > backup-pre-upgrade.sql`. */
function pgDumpall(out: string, exclude: readonly string[]): Promise<Timed> {
  const env = { ...baseEnv, PGHOST: PG_HOST, PGPORT: String(PG_PORT), PGUSER: ADMIN.user, PGPASSWORD: ADMIN.password };
  const args = exclude.map((p) => `--exclude-database=${p}`);
  return timed("pg_dumpall", args, env, { stdoutFile: out });
}

function serverSnapshot(outDir: string, exclude: readonly string[]): Promise<Timed> {
  const args = [path.join(REPO_ROOT, "bin", "runbook.js"), "snapshot", "--all-databases", "--out-dir", outDir];
  args.push("--name", "bench", "--jobs", String(JOBS), "--compress", String(COMPRESS), "--json");
  return timed(
    process.execPath,
    [...args, ...excludeArgs(exclude)],
    { ...baseEnv, PG_DSN: dsnFor("postgres") },
    {
      captureStdout: true,
    },
  );
}

/**
 * Runs one timed command after `sync`, leaving out the databases that are not the benchmark's at that moment;
 * repeated when it fails because one of those appeared or vanished meanwhile.
 */
async function settled<T>(run: (exclude: readonly string[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const exclude = await otherDatabases();
    execFileSync("sync");
    try {
      return await run(exclude);
    } catch (err) {
      const foreign = /database "(?!runbook_bench_srv_)[^"]*"/.test((err as Error).message);
      if (!foreign || attempt === ATTEMPTS) throw err;
      console.log(`  (repeating a run: another client's database changed under it)`);
    }
  }
}

interface SnapshotJson {
  bytes: number;
  durations: Record<string, number>;
  databases: { name: string; bytes: number; schemaVersion: string | null; durations: Record<string, number> }[];
}

async function main(): Promise<void> {
  await requirePostgres();
  await buildCli();
  let serverBytes = 0;
  for (const database of SERVER) {
    serverBytes += await ensureDatabase(database);
    if (database.alembic !== undefined) await ensureAlembicVersion(database.name, database.alembic);
  }
  console.log(`server: ${SERVER.length} databases + postgres, ${(serverBytes / GB).toFixed(2)} GB on disk`);
  const plainOut = path.join(WORK_DIR, "backup-pre-upgrade.sql");
  const snapshotOut = path.join(WORK_DIR, "snapshots");

  console.log("warming up: one pg_dumpall");
  await settled((exclude) => pgDumpall(fresh(plainOut), exclude));
  const plain: Timed[] = [];
  const snapshot: Timed[] = [];
  const runPlain = async (): Promise<void> => {
    fs.rmSync(plainOut, { force: true });
    plain.push(await settled((exclude) => pgDumpall(plainOut, exclude)));
  };
  const runSnapshot = async (): Promise<void> => {
    snapshot.push(await settled((exclude) => serverSnapshot(fresh(snapshotOut), exclude)));
  };
  for (let run = 1; run <= RUNS; run++) {
    if (run % 2 === 1) {
      await runPlain();
      await runSnapshot();
    } else {
      await runSnapshot();
      await runPlain();
    }
    const last = (t: Timed[]): string => t[t.length - 1].seconds.toFixed(2);
    console.log(`  run ${run}: pg_dumpall ${last(plain)} s, server snapshot ${last(snapshot)} s`);
  }
  const plainBytes = fs.statSync(plainOut).size;
  const results = snapshot.map((t) => JSON.parse(t.stdout ?? "{}") as SnapshotJson);
  const snapshotBytes = results[results.length - 1].bytes;
  const restores = await compareRestores(plainOut, path.join(snapshotOut, "bench"));
  fs.rmSync(WORK_DIR, { recursive: true, force: true });

  const cpu = (runs: Timed[]): string => median(runs.map((t) => t.cpuSeconds)).toFixed(2);
  const plainMedian = median(plain.map((t) => t.seconds));
  const snapshotMedian = median(snapshot.map((t) => t.seconds));
  console.log("");
  console.log(
    `--jobs ${JOBS}, --compress ${COMPRESS}; load average ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`,
  );
  console.log(
    `pg_dumpall > file: median ${plainMedian.toFixed(2)} s (runs ${plain.map((t) => t.seconds.toFixed(2)).join(" ")}), ` +
      `${mib(plainBytes)} MiB, client CPU ${cpu(plain)} s, peak RSS ${mib(Math.max(...plain.map((t) => t.peakRssBytes)))} MiB`,
  );
  console.log(
    `runbook snapshot --all-databases: median ${snapshotMedian.toFixed(2)} s ` +
      `(runs ${snapshot.map((t) => t.seconds.toFixed(2)).join(" ")}), ${mib(snapshotBytes)} MiB, client CPU ${cpu(snapshot)} s, ` +
      `peak RSS ${mib(Math.max(...snapshot.map((t) => t.peakRssBytes)))} MiB`,
  );
  const phases = Object.keys(results[0].durations);
  console.log(
    `  phases (median ms): ${phases.map((p) => `${p} ${median(results.map((r) => r.durations[p]))}`).join(", ")}`,
  );
  for (const database of results[0].databases) {
    const runs = results.map((r) => r.databases.find((d) => d.name === database.name)!);
    const dumpMs = median(runs.map((d) => d.durations.dumpMs));
    const verifyMs = median(runs.map((d) => d.durations.verifyMs));
    console.log(
      `  ${database.name}: ${mib(database.bytes)} MiB, alembic ${database.schemaVersion ?? "-"}, ` +
        `dump ${dumpMs} ms, verify ${verifyMs} ms`,
    );
  }
  const replayMedian = median(restores.replay.map((t) => t.seconds));
  const restoreMedian = median(restores.restore.map((t) => t.seconds));
  const runsOf = (t: Timed[]): string => t.map((r) => r.seconds.toFixed(2)).join(" ");
  console.log(
    `psql -f backup-pre-upgrade.sql (onto an empty server): median ${replayMedian.toFixed(2)} s (runs ${runsOf(restores.replay)}), ` +
      `client CPU ${cpu(restores.replay)} s`,
  );
  console.log(
    `runbook restore --snapshot (onto an empty server): median ${restoreMedian.toFixed(2)} s (runs ${runsOf(restores.restore)}), ` +
      `client CPU ${cpu(restores.restore)} s, peak RSS ${mib(Math.max(...restores.restore.map((t) => t.peakRssBytes)))} MiB`,
  );
  console.log(`server snapshot/pg_dumpall time ratio: ${(snapshotMedian / plainMedian).toFixed(3)}`);
  console.log(`server snapshot/pg_dumpall size ratio: ${(snapshotBytes / plainBytes).toFixed(3)}`);
  console.log(`restore/psql replay time ratio: ${(restoreMedian / replayMedian).toFixed(3)}`);
}

/** The same server restored twice over from an empty cluster: the pg_dumpall file replayed, the snapshot restored. */
async function compareRestores(
  plainFile: string,
  snapshotPath: string,
): Promise<{ replay: Timed[]; restore: Timed[] }> {
  const port = await startScratchServer();
  console.log(`restoring onto an empty cluster on port ${port}`);
  const replay: Timed[] = [];
  const restore: Timed[] = [];
  const preRestoreDir = path.join(WORK_DIR, "pre-restore");
  const scratchEnv = {
    ...baseEnv,
    PGHOST: PG_HOST,
    PGPORT: String(port),
    PGUSER: ADMIN.user,
    PGPASSWORD: ADMIN.password,
  };
  const runReplay = async (): Promise<void> => {
    await wipeScratchServer();
    execFileSync("sync");
    // The guide's replay: psql carries on past errors (the roles that exist already) as it does there.
    replay.push(await timed("psql", ["-X", "-q", "-d", "postgres", "-f", plainFile], scratchEnv));
    await checkRestored("psql replay", port);
  };
  const runRestore = async (): Promise<void> => {
    await wipeScratchServer();
    fresh(preRestoreDir);
    fs.mkdirSync(preRestoreDir);
    execFileSync("sync");
    const args = [path.join(REPO_ROOT, "bin", "runbook.js"), "restore", "--snapshot", snapshotPath];
    args.push("--pre-restore-dir", preRestoreDir, "--yes", "--json");
    restore.push(
      await timed(
        process.execPath,
        args,
        { ...baseEnv, PG_DSN: dsnFor("postgres", ADMIN, port) },
        {
          captureStdout: true,
        },
      ),
    );
    await checkRestored("runbook restore", port);
  };
  try {
    for (let run = 1; run <= RESTORE_RUNS; run++) {
      if (run % 2 === 1) {
        await runReplay();
        await runRestore();
      } else {
        await runRestore();
        await runReplay();
      }
      const last = (t: Timed[]): string => t[t.length - 1].seconds.toFixed(2);
      console.log(`  restore run ${run}: psql replay ${last(replay)} s, runbook restore ${last(restore)} s`);
    }
  } finally {
    removeScratchServer();
  }
  return { replay, restore };
}

/** Row counts of the generated databases on the test server, read once: what each restore must bring back. */
const sourceCounts = new Map<string, string>();

/** Both ways must have brought back every database with the same tables and rows (alembic_version included). */
async function checkRestored(what: string, port: number): Promise<void> {
  for (const database of SERVER) {
    const source = await connect(database.name);
    const target = new Client({
      host: PG_HOST,
      port,
      user: ADMIN.user,
      password: ADMIN.password,
      database: database.name,
    });
    await target.connect();
    try {
      const facts = async (client: Client): Promise<string> => {
        const tables = await client.query<{ name: string }>(
          "select format('%I.%I', schemaname, relname) as name from pg_stat_user_tables order by 1",
        );
        const counts: string[] = [];
        for (const { name } of tables.rows) {
          const { rows } = await client.query<{ n: string }>(`select count(*)::text as n from ${name}`);
          counts.push(`${name}=${rows[0].n}`);
        }
        return counts.join(",");
      };
      if (!sourceCounts.has(database.name)) sourceCounts.set(database.name, await facts(source));
      const [want, got] = [sourceCounts.get(database.name), await facts(target)];
      if (want !== got) throw new Error(`${what} did not restore ${database.name}: ${got} instead of ${want}`);
    } finally {
      await source.end();
      await target.end();
    }
  }
}

main().catch((err: Error) => {
  console.error(`bench:server-snapshot: ${err.message}`);
  process.exitCode = 1;
});
