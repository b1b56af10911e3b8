/**
 * `npm run bench:snapshot`: what `runbook snapshot` costs over a bare pg_dump with the same format, jobs and
 * compression, and how much memory it and its children use, on a generated database of at least 1 GB.
 *
 * Uses the test server of test/services/postgres.sh. The databases are generated once and reused while their
 * recorded target size matches: events (jsonb), documents (text of random words), audit rows (random md5
 * text) and accounts, which compress about 3:1 like real application data (pgbench filler compresses ~50:1).
 * Runs alternate in ABBA order (pg_dump then snapshot, then snapshot then pg_dump, ...) so that drift in machine
 * load and whichever command runs second in a pair hit both alike; the median of five is reported (on these
 * 2-core machines single runs of the same pg_dump vary by up to 15%). Peak RSS is the sum over the CLI's process tree (node, pg_dump and its workers), sampled
 * from /proc every 20 ms, measured on the big database and on one a quarter its size to show it stays flat.
 * The last two lines are `snapshot/pg_dump time ratio: R` and `snapshot peak RSS MiB: M`.
 */
import fs from "node:fs";
import path from "node:path";
import { ADMIN, PG_HOST, PG_PORT, REPO_ROOT, buildCli, dsnFor, requirePostgres } from "../test/support/postgres";
import { GB, ensureDatabase } from "./support/generated-database";
import { Timed, baseEnv, fresh, median, mib, timed } from "./support/timing";

const BIG = { name: "runbook_bench_1gb", targetBytes: 1.05 * GB };
const QUARTER = { name: "runbook_bench_quarter", targetBytes: BIG.targetBytes / 4 };
const FORMAT = "directory";
const JOBS = 2;
const COMPRESS = 1;
const RUNS = 5;
const WORK_DIR = path.join(process.env.RUNBOOK_TEST_STATE ?? "/tmp/release-runbook-test", "bench");

function bareDump(database: string, out: string): Promise<Timed> {
  const env = {
    ...baseEnv,
    PGHOST: PG_HOST,
    PGPORT: String(PG_PORT),
    PGUSER: ADMIN.user,
    PGPASSWORD: ADMIN.password,
    PGDATABASE: database,
  };
  return timed("pg_dump", [`--format=${FORMAT}`, `--jobs=${JOBS}`, `--compress=${COMPRESS}`, `--file=${out}`], env);
}

function cliSnapshot(database: string, outDir: string): Promise<Timed> {
  const args = [path.join(REPO_ROOT, "bin", "runbook.js"), "snapshot", "--out-dir", outDir, "--name", "bench"];
  args.push("--format", FORMAT, "--jobs", String(JOBS), "--compress", String(COMPRESS), "--json");
  return timed(process.execPath, args, { ...baseEnv, PG_DSN: dsnFor(database) });
}

/** The CLI's own start-up (loading every command module), part of every snapshot's wall time. */
function cliStartup(): Promise<Timed> {
  return timed(process.execPath, [path.join(REPO_ROOT, "bin", "runbook.js"), "--help"], baseEnv);
}

async function main(): Promise<void> {
  await requirePostgres();
  await buildCli();
  const bigSize = await ensureDatabase(BIG);
  const quarterSize = await ensureDatabase(QUARTER);
  const bareOut = path.join(WORK_DIR, "pg_dump");
  const cliOut = path.join(WORK_DIR, "snapshot");

  console.log(`warming up: one pg_dump of ${BIG.name}`);
  await bareDump(BIG.name, fresh(bareOut));
  const bare: Timed[] = [];
  const cli: Timed[] = [];
  for (let run = 1; run <= RUNS; run++) {
    if (run % 2 === 1) {
      bare.push(await bareDump(BIG.name, fresh(bareOut)));
      cli.push(await cliSnapshot(BIG.name, fresh(cliOut)));
    } else {
      cli.push(await cliSnapshot(BIG.name, fresh(cliOut)));
      bare.push(await bareDump(BIG.name, fresh(bareOut)));
    }
    console.log(
      `  run ${run}: pg_dump ${bare[run - 1].seconds.toFixed(2)} s, snapshot ${cli[run - 1].seconds.toFixed(2)} s`,
    );
  }
  const dumpBytes = fs
    .readdirSync(path.join(cliOut, "bench"))
    .reduce((s, f) => s + fs.statSync(path.join(cliOut, "bench", f)).size, 0);
  const quarter: Timed[] = [];
  for (let run = 1; run <= RUNS; run++) quarter.push(await cliSnapshot(QUARTER.name, fresh(cliOut)));
  const startup: Timed[] = [];
  for (let run = 1; run <= RUNS; run++) startup.push(await cliStartup());
  fs.rmSync(WORK_DIR, { recursive: true, force: true });

  const bareMedian = median(bare.map((t) => t.seconds));
  const cliMedian = median(cli.map((t) => t.seconds));
  const cliPeak = Math.max(...cli.map((t) => t.peakRssBytes));
  const rows = [
    ["database", "size GB", "command", "median s", "runs s", "peak RSS MiB (tree)"],
    [
      BIG.name,
      (bigSize / GB).toFixed(2),
      "pg_dump",
      bareMedian.toFixed(2),
      bare.map((t) => t.seconds.toFixed(2)).join(" "),
      mib(Math.max(...bare.map((t) => t.peakRssBytes))),
    ],
    [
      BIG.name,
      (bigSize / GB).toFixed(2),
      "snapshot",
      cliMedian.toFixed(2),
      cli.map((t) => t.seconds.toFixed(2)).join(" "),
      mib(cliPeak),
    ],
    [
      QUARTER.name,
      (quarterSize / GB).toFixed(2),
      "snapshot",
      median(quarter.map((t) => t.seconds)).toFixed(2),
      quarter.map((t) => t.seconds.toFixed(2)).join(" "),
      mib(Math.max(...quarter.map((t) => t.peakRssBytes))),
    ],
    [
      "-",
      "-",
      "runbook --help",
      median(startup.map((t) => t.seconds)).toFixed(2),
      startup.map((t) => t.seconds.toFixed(2)).join(" "),
      mib(Math.max(...startup.map((t) => t.peakRssBytes))),
    ],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log("");
  console.log(
    `${FORMAT} format, --jobs ${JOBS}, --compress ${COMPRESS}; dump of ${BIG.name}: ${mib(dumpBytes)} MiB; load average ${fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  );
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
  console.log(`snapshot/pg_dump time ratio: ${(cliMedian / bareMedian).toFixed(3)}`);
  console.log(`snapshot peak RSS MiB: ${mib(cliPeak)}`);
}

main().catch((err: Error) => {
  console.error(`bench:snapshot: ${err.message}`);
  process.exitCode = 1;
});
