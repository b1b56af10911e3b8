import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../../src/lib/config/schema";
import { validateConfig } from "../../src/lib/config/validate";
import { OperationFailed } from "../../src/lib/errors";
import { fetchSnapshot } from "../../src/lib/snapshot-store/fetch-snapshot";
import { listStoredSnapshots } from "../../src/lib/snapshot-store/list-snapshots";
import { DirectoryObjects } from "../../src/lib/snapshot-store/directory-objects";
import { CLI_FLAGS, parseStoreSettings } from "../../src/lib/snapshot-store/settings";
import { uploadSnapshot } from "../../src/lib/snapshot-store/upload-snapshot";
import { stackStore } from "../../src/lib/rollback/stack-store";
import { withStoredSnapshots } from "../../src/lib/rollback/snapshot-records";
import type { SnapshotManifest } from "../../src/lib/snapshot/manifest";
import { PROJECT_DIR, rawConfig, validRawValues } from "../support/stackConfig";

const ctx = { project: "release-runbook", stack: "unit", projectDir: PROJECT_DIR };
const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

function problemsOf(values: Record<string, unknown>): readonly string[] {
  try {
    validateConfig(rawConfig(values), ctx);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail("validation passed but should have failed");
}

describe("snapshotStore settings", () => {
  it("no store keeps the snapshots in snapshotDir only (today's behaviour)", () => {
    const { config } = validateConfig(rawConfig(validRawValues()), ctx);
    assert.equal(config.snapshot.store, undefined);
  });

  it("reads an s3:// bucket URL with an endpoint and region for an S3-compatible server", () => {
    const { config } = validateConfig(
      rawConfig(
        validRawValues({
          snapshotStore: "s3://runbook-snapshots/prod/",
          snapshotStoreEndpoint: "http://127.0.0.1:28610",
          snapshotStoreRegion: "eu-central-1",
        }),
      ),
      ctx,
    );
    assert.deepEqual(config.snapshot.store, {
      kind: "bucket",
      url: "s3://runbook-snapshots/prod/",
      location: { bucket: "runbook-snapshots", prefix: "prod/" },
      endpoint: "http://127.0.0.1:28610",
      region: "eu-central-1",
    });
  });

  it("reads a directory (a shared mount) relative to the project", () => {
    const { config } = validateConfig(rawConfig(validRawValues({ snapshotStore: "shared/snapshots" })), ctx);
    const dir = path.join(PROJECT_DIR, "shared/snapshots");
    assert.deepEqual(config.snapshot.store, { kind: "directory", url: dir, dir });
  });

  it("names the key and the fix for a store it cannot use", () => {
    const problems = [
      problemsOf(validRawValues({ snapshotStore: "gs://bucket/x" })),
      problemsOf(validRawValues({ snapshotStore: "s3://Bad_Bucket/x" })),
      problemsOf(validRawValues({ snapshotStore: "s3://bucket-ok/x", snapshotStoreEndpoint: "ftp://host" })),
      problemsOf(validRawValues({ snapshotStoreEndpoint: "http://127.0.0.1:28610" })),
      problemsOf(
        validRawValues({ snapshotStore: "s3://bucket-ok/x", snapshotStoreEndpoint: "http://user:pw@127.0.0.1:1" }),
      ),
    ].map((p) => p.join("\n"));
    assert.match(problems[0], /release-runbook:snapshotStore: 'gs:\/\/bucket\/x': only s3:\/\/ URLs/);
    assert.match(problems[1], /release-runbook:snapshotStore: 's3:\/\/Bad_Bucket\/x' is not a bucket URL/);
    assert.match(problems[2], /release-runbook:snapshotStoreEndpoint: 'ftp:\/\/host' is not an endpoint URL/);
    assert.match(problems[3], /release-runbook:snapshotStoreEndpoint: is set but snapshotStore is not/);
    assert.match(problems[4], /snapshotStoreEndpoint: .* without credentials/);
  });

  it("warns a server-scope stack that its snapshot is not uploaded", () => {
    const { config, warnings } = validateConfig(
      rawConfig(validRawValues({ snapshotScope: "server", snapshotStore: "s3://runbook-snapshots/prod" })),
      ctx,
    );
    assert.equal(config.snapshot.store?.url, "s3://runbook-snapshots/prod/");
    assert.ok(
      warnings.some((w) => /^release-runbook:snapshotStore: a server snapshot .* is not uploaded/.test(w)),
      warnings.join("\n"),
    );
  });

  it("gives the CLI the same rule, naming its flags", () => {
    assert.throws(
      () => parseStoreSettings({ store: "s3://x" }, CLI_FLAGS, "/"),
      /--store 's3:\/\/x' is not a bucket URL/,
    );
    assert.deepEqual(parseStoreSettings({ store: "s3://bucket-a" }, CLI_FLAGS, "/"), {
      kind: "bucket",
      url: "s3://bucket-a/",
      location: { bucket: "bucket-a", prefix: "" },
    });
  });
});

describe("a stack's snapshot store, as history and rollback read it", () => {
  const config = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [`release-runbook:${k}`, { value: v }]));

  it("is absent when the stack keeps its snapshots in snapshotDir only", () => {
    assert.equal(stackStore(config({ snapshotDir: "snapshots/prod" }), {}, "/project"), undefined);
  });

  it("takes the stack's secret credentials over the operator's environment", () => {
    const store = stackStore(
      config({
        snapshotStore: "s3://acme-runbook/prod",
        snapshotStoreEndpoint: "https://minio.internal:9000",
        snapshotStoreAccessKeyId: "AKIDSTACK",
        snapshotStoreSecretAccessKey: "stack-secret",
      }),
      { PATH: "/usr/bin", RUNBOOK_STORE_ACCESS_KEY_ID: "AKIDSHELL", RUNBOOK_STORE_SECRET_ACCESS_KEY: "shell-secret" },
      "/project",
    )!;
    assert.equal(store.settings.url, "s3://acme-runbook/prod/");
    assert.equal(store.env.RUNBOOK_STORE_ACCESS_KEY_ID, "AKIDSTACK");
    assert.equal(store.env.RUNBOOK_STORE_SECRET_ACCESS_KEY, "stack-secret");
    assert.equal(store.env.PATH, "/usr/bin");
  });

  it("falls back to the operator's environment, and resolves a directory against the project", () => {
    const env = { RUNBOOK_STORE_ACCESS_KEY_ID: "AKIDSHELL", RUNBOOK_STORE_SECRET_ACCESS_KEY: "shell-secret" };
    assert.equal(stackStore(config({ snapshotStore: "s3://acme-runbook" }), env, "/project")!.env, env);
    assert.equal(stackStore(config({ snapshotStore: "../shared" }), {}, "/srv/project")!.settings.url, "/srv/shared");
  });
});

describe("history's lookup when the store cannot be reached", () => {
  it("still lists the local snapshots and names the store's failure, without the secret", async () => {
    const local = [
      {
        name: "snap-local",
        path: "/x/snap-local",
        manifestPath: "/x/snap-local.manifest.json",
        sha256: "a".repeat(64),
        createdAt: "2026-11-30T03:00:00.000Z",
        schemaVersion: null,
      },
    ];
    // Nothing listens on this loopback port.
    const settings = parseStoreSettings(
      { store: "s3://acme-runbook/prod", endpoint: "http://127.0.0.1:28699" },
      CLI_FLAGS,
      "/",
    )!;
    const env = { RUNBOOK_STORE_ACCESS_KEY_ID: "AKIDUNIT", RUNBOOK_STORE_SECRET_ACCESS_KEY: "unit-secret-key-4711" };
    const { records, problems } = await withStoredSnapshots(local, "/x", "prod", { settings, env });
    assert.deepEqual(records, local);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /^the snapshot store could not be listed: cannot list s3:\/\/acme-runbook\/prod\/ at http:\/\/127\.0\.0\.1:28699: /,
    );
    assert.doesNotMatch(problems[0], /unit-secret-key-4711/);
  });
});

describe("snapshot store in a directory: upload, verify, list, fetch", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "rr-dir-store-"));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A committed custom-format snapshot with a Secrets companion, as takeSnapshot leaves it. */
  function committedSnapshot(outDir: string, name: string): { manifest: SnapshotManifest; manifestPath: string } {
    fs.mkdirSync(outDir, { recursive: true });
    const dump = Buffer.from("PGDMP fake archive bytes ".repeat(1000));
    const secrets = Buffer.from('{"kind":"List","items":[]}\n');
    fs.writeFileSync(path.join(outDir, `${name}.dump`), dump);
    fs.writeFileSync(path.join(outDir, `${name}.secrets.json`), secrets);
    const manifest = {
      manifestVersion: 1,
      name,
      path: path.join("/elsewhere", `${name}.dump`),
      format: "custom",
      sha256: sha256(dump),
      sha256Method: "sha256 of the file",
      bytes: dump.length,
      tocEntries: 3,
      createdAt: "2026-11-30T03:00:00.000Z",
      durations: { dumpMs: 1, hashMs: 0, verifyMs: 1 },
      source: { host: "db", port: 5432, user: "app", database: "appdb", sslmode: "disable" },
      serverVersion: "16.4",
      serverVersionNum: 160004,
      schemaVersion: "42",
      pgDumpVersion: "16.4",
      dumpOptions: { jobs: 1, compress: 1 },
      companions: [
        {
          kind: "kubernetes-secrets",
          path: path.join("/elsewhere", `${name}.secrets.json`),
          sha256: sha256(secrets),
          bytes: secrets.length,
        },
      ],
    } as unknown as SnapshotManifest;
    const manifestPath = path.join(outDir, `${name}.manifest.json`);
    fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return { manifest, manifestPath };
  }

  it("copies the snapshot in, manifest last, and fetches it back into another directory, checked", async () => {
    const outDir = path.join(root, "here");
    const store = new DirectoryObjects(path.join(root, "store"));
    const snapshot = committedSnapshot(outDir, "snap-a");
    const stored = await uploadSnapshot(store, { outDir, ...snapshot });
    assert.equal(stored.manifestUrl, path.join(root, "store", "snap-a.manifest.json"));
    assert.equal(stored.alreadyStored, false);
    assert.deepEqual(fs.readdirSync(path.join(root, "store")).sort(), [
      "snap-a.dump",
      "snap-a.manifest.json",
      "snap-a.secrets.json",
    ]);
    assert.equal((await uploadSnapshot(store, { outDir, ...snapshot })).alreadyStored, true);

    const listed = await listStoredSnapshots(store);
    assert.deepEqual(
      listed.snapshots.map((s) => s.manifest.name),
      ["snap-a"],
    );

    const there = path.join(root, "there");
    const fetched = await fetchSnapshot(store, "snap-a", there);
    assert.equal(fetched.path, path.join(there, "snap-a.dump"));
    for (const file of ["snap-a.dump", "snap-a.secrets.json", "snap-a.manifest.json"]) {
      assert.deepEqual(fs.readFileSync(path.join(there, file)), fs.readFileSync(path.join(outDir, file)), file);
      assert.equal(fs.statSync(path.join(there, file)).mode & 0o777, 0o600, file);
    }
  });

  it("refuses a corrupted object, naming it, and leaves no file behind", async () => {
    const outDir = path.join(root, "here");
    const storeDir = path.join(root, "store");
    const store = new DirectoryObjects(storeDir);
    await uploadSnapshot(store, { outDir, ...committedSnapshot(outDir, "snap-b") });
    fs.appendFileSync(path.join(storeDir, "snap-b.secrets.json"), "tampered");
    const there = path.join(root, "there");
    await assert.rejects(
      fetchSnapshot(store, "snap-b", there),
      (err: Error) =>
        err instanceof OperationFailed &&
        err.message.startsWith(`${path.join(storeDir, "snap-b.secrets.json")} is corrupted: its sha256 is `),
    );
    assert.deepEqual(fs.readdirSync(there), []);
  });

  it("says which snapshot is not in the store", async () => {
    const store = new DirectoryObjects(path.join(root, "store"));
    await assert.rejects(
      fetchSnapshot(store, "snap-missing", path.join(root, "there")),
      /snapshot snap-missing is neither/,
    );
  });
});
