/**
 * The benchmarks' generated databases in the test server of test/services/postgres.sh: events (jsonb), documents
 * (text of random words), audit rows (random md5 text) and accounts, which compress about 3:1 like real
 * application data (pgbench filler compresses ~50:1). Each is generated once and reused while its recorded
 * target size matches.
 */
import { Client } from "pg";
import { ADMIN, PG_HOST, PG_PORT } from "../../test/support/postgres";

export const GB = 1_000_000_000;
/** A generated database is reused while its size is within this factor above its target. */
const REUSE_TOLERANCE = 1.3;

export interface GeneratedDatabase {
  readonly name: string;
  readonly targetBytes: number;
}

export async function connect(database: string): Promise<Client> {
  const client = new Client({ host: PG_HOST, port: PG_PORT, user: ADMIN.user, password: ADMIN.password, database });
  await client.connect();
  return client;
}

export async function databaseSize(name: string): Promise<number | undefined> {
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

export async function ensureDatabase(spec: GeneratedDatabase): Promise<number> {
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
