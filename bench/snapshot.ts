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
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { ADMIN, PG_HOST, PG_PORT, REPO_ROOT, buildCli, dsnFor, requirePostgres } from "../test/support/postgres";

const GB = 1_000_000_000;
const BIG = { name: "runbook_bench_1gb", targetBytes: 1.05 * GB };
const QUARTER = { name: "runbook_bench_quarter", targetBytes: BIG.targetBytes / 4 };
const FORMAT = "directory";
const JOBS = 2;
const COMPRESS = 1;
const RUNS = 5;
const SAMPLE_MS = 20;
/** A generated database is reused while its size is within this factor above its target. */
const REUSE_TOLERANCE = 1.3;
const WORK_DIR = path.join(process.env.RUNBOOK_TEST_STATE ?? "/tmp/release-runbook-test", "bench");

async function connect(database: string): Promise<Client> {
  const client = new Client({ host: PG_HOST, port: PG_PORT, user: ADMIN.user, password: ADMIN.password, database });
  await client.connect();
  return client;
}

async function databaseSize(name: string): Promise<number | undefined> {
  const admin = await connect("postgres");
  try {
    const { rows } = await admin.query(
      "select pg_database_size(datname)::bigint as size from pg_database where datname = $1",
      [name],
    );
    return rows.length === 0 ? undefined : Number(rows[0].size);
  } finally {
    await admin.end();
  }
}

/** The generation finished and was for this target size (a marker written last). */
async function isComplete(name: string, targetBytes: number): Promise<boolean> {
  const client = await connect(name);
  try {
    const { rows } = await client.query("select target_bytes from bench_meta where complete");
    return rows.length === 1 && Number(rows[0].target_bytes) === Math.round(targetBytes);
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

const SCHEMA = `
  create table vocabulary (id int primary key, word text not null);
  insert into vocabulary select g, substr(md5(random()::text), 1, 3 + (random() * 8)::int)
                                     || (array['', 'ing', 'ed', 's', 'tion'])[1 + (random() * 4)::int]
    from generate_series(1, 5000) g;
  create table accounts (id bigserial primary key, email text not null, display_name text not null,
                         created_at timestamptz not null, settings jsonb not null);
  create table events (id bigserial primary key, account_id bigint not null, kind text not null,
                       occurred_at timestamptz not null, payload jsonb not null);
  create table documents (id bigserial primary key, account_id bigint not null, title text not null, body text not null);
  create table audit (id bigserial primary key, actor text not null, action text not null, detail text not null,
                      at timestamptz not null);
  create table bench_meta (target_bytes bigint not null, complete boolean not null);`;

/** Rows per table in one batch at scale 1 (about 125 MB on disk); random data, words from the vocabulary. */
const BATCH_ROWS = { accounts: 5000, events: 150000, documents: 12000, audit: 120000 };
/** Batches per database: small enough steps to land close to the target size. */
const BATCHES_PER_TARGET = 10;
const BATCH_BYTES_AT_SCALE_1 = 125_000_000;

const batchStatements = (scale: number): string[] => {
  const rows = (n: number): number => Math.max(1, Math.round(n * scale));
  return [
    `insert into accounts (email, display_name, created_at, settings)
     select md5(random()::text) || '@example.com', initcap(v.words[1 + (random() * 4999)::int]) || ' ' || initcap(v.words[1 + (random() * 4999)::int]),
            now() - random() * interval '900 days',
            jsonb_build_object('locale', (array['en','de','fr','ja','pt'])[1 + (random() * 4)::int], 'theme', v.words[1 + (random() * 4999)::int],
                               'notifications', random() > 0.3, 'quota_mb', (random() * 10000)::int)
       from generate_series(1, ${rows(BATCH_ROWS.accounts)}), (select array_agg(word order by id) as words from vocabulary) v`,
    `insert into events (account_id, kind, occurred_at, payload)
     select (random() * 1e6)::bigint, (array['login','upload','share','delete','comment','export'])[1 + (random() * 5)::int],
            now() - random() * interval '400 days',
            jsonb_build_object('ip', (random() * 255)::int || '.' || (random() * 255)::int || '.' || (random() * 255)::int || '.' || (random() * 255)::int,
                               'path', '/api/v1/' || v.words[1 + (random() * 4999)::int] || '/' || (random() * 1e6)::int,
                               'status', (array[200,200,200,201,204,301,404,500])[1 + (random() * 7)::int],
                               'duration_ms', round((random() * 900)::numeric, 2), 'session', md5(random()::text),
                               'tags', jsonb_build_array(v.words[1 + (random() * 4999)::int], v.words[1 + (random() * 4999)::int]),
                               'user_agent', (array['Mozilla/5.0 (X11; Linux x86_64)','Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)','curl/8.4.0','okhttp/4.12'])[1 + (random() * 3)::int])
       from generate_series(1, ${rows(BATCH_ROWS.events)}), (select array_agg(word order by id) as words from vocabulary) v`,
    `insert into documents (account_id, title, body)
     select (random() * 1e6)::bigint, d.words[1] || ' ' || d.words[2] || ' ' || d.words[3], array_to_string(d.words, ' ')
       from (select array_agg(word order by id) as words from vocabulary) v, generate_series(1, ${rows(BATCH_ROWS.documents)}) g,
            -- i * 0 ties the aggregate to the inner query (an aggregate of outer columns only belongs to the outer one)
            lateral (select array_agg(v.words[1 + (random() * 4999)::int + i * 0]) as words
                       from generate_series(1, 150 + (g % 300)) i) d`,
    `insert into audit (actor, action, detail, at)
     select md5(random()::text), (array['grant','revoke','update','login-failed','rotate-key'])[1 + (random() * 4)::int],
            md5(random()::text) || ' ' || md5(random()::text) || ' ' || md5(random()::text), now() - random() * interval '400 days'
       from generate_series(1, ${rows(BATCH_ROWS.audit)})`,
  ];
};

async function ensureDatabase(spec: { name: string; targetBytes: number }): Promise<number> {
  const size = await databaseSize(spec.name);
  const rightSize = size !== undefined && size >= spec.targetBytes && size <= spec.targetBytes * REUSE_TOLERANCE;
  if (rightSize && (await isComplete(spec.name, spec.targetBytes))) {
    console.log(`reusing ${spec.name} (${(size / GB).toFixed(2)} GB)`);
    return size;
  }
  console.log(`generating ${spec.name} (≥ ${(spec.targetBytes / GB).toFixed(2)} GB); this takes a few minutes once`);
  const admin = await connect("postgres");
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${spec.name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${spec.name}`);
  } finally {
    await admin.end();
  }
  const [accounts, events, documents, audit] = batchStatements(
    spec.targetBytes / BATCHES_PER_TARGET / BATCH_BYTES_AT_SCALE_1,
  );
  const client = await connect(spec.name);
  try {
    await client.query(SCHEMA);
    for (let batch = 1; ; batch++) {
      // Two connections fill the tables in parallel (two cores).
      const other = await connect(spec.name);
      try {
        await Promise.all([
          (async () => {
            await client.query(accounts);
            await client.query(events);
          })(),
          (async () => {
            await other.query(documents);
            await other.query(audit);
          })(),
        ]);
      } finally {
        await other.end();
      }
      const now = (await databaseSize(spec.name)) ?? 0;
      process.stdout.write(`  batch ${batch}: ${(now / GB).toFixed(2)} GB\n`);
      if (now >= spec.targetBytes) break;
    }
    await client.query("vacuum analyze");
    await client.query("insert into bench_meta values ($1, true)", [Math.round(spec.targetBytes)]);
  } finally {
    await client.end();
  }
  return (await databaseSize(spec.name)) ?? 0;
}

/** Sum of VmRSS over a process and all its descendants. */
function treeRssBytes(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match !== null) total += Number(match[1]) * 1024;
    } catch {
      // exited meanwhile
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

interface Timed {
  readonly seconds: number;
  readonly peakRssBytes: number;
}

/** Runs a command to completion, timing it and sampling its process tree's RSS. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    let peak = 0;
    const sampler = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, treeRssBytes(child.pid));
    }, SAMPLE_MS);
    child.once("error", reject);
    child.once("exit", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(sampler);
      if (code !== 0) reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr}`));
      else resolve({ seconds, peakRssBytes: peak });
    });
  });
}

const baseEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8" };

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

function fresh(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  return dir;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);

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
