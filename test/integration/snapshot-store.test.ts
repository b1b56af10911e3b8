import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { dsnFor, fingerprint, query, runCli, tempDir } from "../support/postgres";
import { postgresSuite } from "../support/postgresSuite";
import {
  S3_ACCESS_KEY,
  S3_ENDPOINT,
  S3_ENV,
  S3_SECRET_KEY,
  createBucket,
  etagOf,
  getObject,
  listKeys,
  putObject,
  removeBucket,
  requireS3,
  testS3Client,
} from "../support/s3";
import { withStoredSnapshots } from "../../src/lib/rollback/snapshot-records";
import { BucketClient } from "../../src/lib/s3/client";
import { hashStream } from "../../src/lib/snapshot-store/parts";
import { parseStoreSettings, CLI_FLAGS } from "../../src/lib/snapshot-store/settings";

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

describe("snapshot store in a bucket (integration: real SeaweedFS S3 and PostgreSQL)", function () {
  this.timeout(180_000);
  const { seeded, dropAfter } = postgresSuite();
  let s3: S3Client;
  let bucket: string;

  before(async () => {
    await requireS3();
    s3 = testS3Client();
    bucket = await createBucket(s3, "rr-store");
  });
  after(async () => {
    if (bucket !== undefined) await removeBucket(s3, bucket);
    s3?.destroy();
  });

  const storeFlags = (prefix: string): string[] => [
    "--store",
    `s3://${bucket}/${prefix}`,
    "--store-endpoint",
    S3_ENDPOINT,
  ];

  async function snapshotToStore(database: string, outDir: string, prefix: string, name: string) {
    const run = await runCli(
      ["snapshot", "--out-dir", outDir, "--name", name, "--format", "directory", ...storeFlags(prefix), "--json"],
      { env: { PG_DSN: dsnFor(database), ...S3_ENV } },
    );
    assert.equal(run.code, 0, run.stderr);
    return run.json!;
  }

  it("uploads the dump files, then the manifest, each read back and equal to the local copy, and lists it", async () => {
    const database = await seeded("rr_store_up");
    const outDir = tempDir("rr-store-up");
    const json = await snapshotToStore(database, outDir, "prod", "snap-up");
    const stored = json.store as Record<string, unknown>;
    assert.equal(stored.manifestUrl, `s3://${bucket}/prod/snap-up.manifest.json`);
    assert.equal(stored.alreadyStored, false);

    const local = fs.readdirSync(path.join(outDir, "snap-up")).sort();
    const keys = await listKeys(s3, bucket, "prod/");
    assert.deepEqual(keys, [...local.map((f) => `prod/snap-up/${f}`), "prod/snap-up.manifest.json"].sort());
    for (const file of local) {
      const object = await getObject(s3, bucket, `prod/snap-up/${file}`);
      assert.equal(sha256(object), sha256(fs.readFileSync(path.join(outDir, "snap-up", file))), file);
    }
    assert.deepEqual(
      await getObject(s3, bucket, "prod/snap-up.manifest.json"),
      fs.readFileSync(path.join(outDir, "snap-up.manifest.json")),
    );

    // A re-run finds the same manifest in the store and uploads nothing.
    const again = await snapshotToStore(database, outDir, "prod", "snap-up");
    assert.equal((again.store as Record<string, unknown>).alreadyStored, true);

    // The history lookup lists it from the bucket for a machine without the local copy.
    const settings = parseStoreSettings({ store: `s3://${bucket}/prod`, endpoint: S3_ENDPOINT }, CLI_FLAGS, "/")!;
    const elsewhere = tempDir("rr-store-elsewhere");
    const { records, problems } = await withStoredSnapshots([], elsewhere, "prod", {
      settings,
      env: { ...S3_ENV },
    });
    assert.deepEqual(problems, []);
    assert.equal(records.length, 1);
    assert.equal(records[0].name, "snap-up");
    assert.equal(records[0].path, path.join(elsewhere, "snap-up"));
    assert.equal(records[0].storeOnly, true);
    assert.equal(records[0].stored, `s3://${bucket}/prod/snap-up.manifest.json`);
    assert.equal(records[0].sha256, json.sha256);
  });

  it("uploads a file larger than one part as a multipart upload, and reads back the same bytes", async () => {
    const file = path.join(tempDir("rr-store-multipart"), "big.dat");
    const bytes = randomBytes(40 * 1024 * 1024 + 123);
    fs.writeFileSync(file, bytes);
    const settings = parseStoreSettings({ store: `s3://${bucket}/multi`, endpoint: S3_ENDPOINT }, CLI_FLAGS, "/")!;
    assert.equal(settings.kind, "bucket");
    const client = new BucketClient(settings as Extract<typeof settings, { kind: "bucket" }>, { ...S3_ENV });
    try {
      await client.putFile("big.dat", file);
      // An S3 multipart object's ETag is "<md5 of the parts' md5s>-<number of parts>": 16 MiB parts → 3.
      assert.match(await etagOf(s3, bucket, "multi/big.dat"), /-3$/);
      const back = await hashStream((await client.get("big.dat"))!);
      assert.deepEqual(back, { sha256: sha256(bytes), bytes: bytes.length });
      assert.equal(await client.get("absent.dat"), undefined);
    } finally {
      client.destroy();
    }
  });

  it("a snapshot restored by a second checkout that has only the bucket", async () => {
    const database = await seeded("rr_store_second");
    dropAfter(database);
    const before = await fingerprint(database);
    const firstCheckout = tempDir("rr-store-first");
    const json = await snapshotToStore(database, firstCheckout, "prod", "snap-3am");
    // The first machine is gone; the database moved on after the snapshot.
    fs.rmSync(firstCheckout, { recursive: true, force: true });
    await query(database, "delete from events; create table added_later (id int); update documents set body = 'x'");
    assert.notDeepEqual(await fingerprint(database), before);

    const secondCheckout = tempDir("rr-store-second");
    const snapshotArg = path.join(secondCheckout, "snapshots", "snap-3am");
    const run = await runCli(["restore", "--snapshot", snapshotArg, ...storeFlags("prod"), "--yes", "--json"], {
      env: { PG_DSN: dsnFor(database), ...S3_ENV },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json!.fetchedFrom, `s3://${bucket}/prod/snap-3am.manifest.json`);
    assert.equal(run.json!.restoredFrom, snapshotArg);
    assert.deepEqual(await fingerprint(database), before);
    const manifest = JSON.parse(fs.readFileSync(`${snapshotArg}.manifest.json`, "utf8")) as { sha256: string };
    assert.equal(manifest.sha256, json.sha256);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(S3_SECRET_KEY));
  });

  it("refuses a corrupted object in the bucket, naming it, and leaves nothing behind", async () => {
    const database = await seeded("rr_store_bad");
    const outDir = tempDir("rr-store-bad");
    await snapshotToStore(database, outDir, "damaged", "snap-bad");
    const dataKey = (await listKeys(s3, bucket, "damaged/snap-bad/")).find((k) => k.endsWith(".dat.gz"))!;
    const original = await getObject(s3, bucket, dataKey);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 1] ^= 0xff;
    await putObject(s3, bucket, dataKey, damaged);
    const before = await fingerprint(database);

    const elsewhere = tempDir("rr-store-bad-elsewhere");
    const run = await runCli(
      ["restore", "--snapshot", path.join(elsewhere, "snap-bad"), ...storeFlags("damaged"), "--yes", "--json"],
      { env: { PG_DSN: dsnFor(database), ...S3_ENV } },
    );
    assert.equal(run.code, 1, run.stdout);
    const error = String(run.json?.error ?? run.stderr);
    assert.match(
      error,
      new RegExp(`s3://${bucket}/${dataKey.replace(/\./g, "\\.")} is corrupted: its sha256 is ${sha256(damaged)}`),
    );
    assert.deepEqual(fs.readdirSync(elsewhere), [], "a refused download leaves no file behind");
    assert.deepEqual(await fingerprint(database), before);
  });

  it("refuses to upload a local file changed after the snapshot was taken, naming the object", async () => {
    const database = await seeded("rr_store_local_bad");
    const outDir = tempDir("rr-store-local-bad");
    const first = await runCli(["snapshot", "--out-dir", outDir, "--name", "snap-local", "--json"], {
      env: { PG_DSN: dsnFor(database) },
    });
    assert.equal(first.code, 0, first.stderr);
    const toc = path.join(outDir, "snap-local", "toc.dat");
    const bytes = fs.readFileSync(toc);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(toc, bytes);
    const run = await runCli(
      ["snapshot", "--out-dir", outDir, "--name", "snap-local", ...storeFlags("local-bad"), "--json"],
      { env: { PG_DSN: dsnFor(database), ...S3_ENV } },
    );
    assert.equal(run.code, 1, run.stdout);
    assert.match(
      String(run.json?.error ?? run.stderr),
      new RegExp(`s3://${bucket}/local-bad/snap-local/toc\\.dat is corrupted`),
    );
    assert.deepEqual(
      (await listKeys(s3, bucket, "local-bad/")).filter((k) => k.endsWith(".manifest.json")),
      [],
      "no manifest: the store does not list an unchecked snapshot",
    );
  });

  it("names the store and never the secret when the credentials are wrong", async () => {
    const database = await seeded("rr_store_creds");
    const outDir = tempDir("rr-store-creds");
    const wrongSecret = "wrong-secret-value-4711";
    const run = await runCli(
      ["snapshot", "--out-dir", outDir, "--name", "snap-creds", ...storeFlags("creds"), "--json"],
      {
        env: {
          PG_DSN: dsnFor(database),
          RUNBOOK_STORE_ACCESS_KEY_ID: S3_ACCESS_KEY,
          RUNBOOK_STORE_SECRET_ACCESS_KEY: wrongSecret,
        },
      },
    );
    assert.equal(run.code, 1, run.stdout);
    const error = String(run.json?.error ?? run.stderr);
    assert.match(error, new RegExp(`s3://${bucket}/creds/`));
    assert.match(error, /credentials/);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(wrongSecret));
    assert.ok(fs.existsSync(path.join(outDir, "snap-creds.manifest.json")), "the local snapshot is kept");
  });
});
