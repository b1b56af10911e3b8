/**
 * The S3-compatible server of test/services/s3.sh (SeaweedFS on 127.0.0.1:28610) and its test-only key pair:
 * a bucket per suite, and direct object access to check or damage what the store wrote.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

export const S3_ENDPOINT = "http://127.0.0.1:28610";
export const S3_ACCESS_KEY = "runbook-test-s3";
export const S3_SECRET_KEY = "runbook-s3-test-secret";
/** What the CLI gets to reach the test server: credentials in the environment only. */
export const S3_ENV = { RUNBOOK_STORE_ACCESS_KEY_ID: S3_ACCESS_KEY, RUNBOOK_STORE_SECRET_ACCESS_KEY: S3_SECRET_KEY };

const START_HINT = "run `bash test/services/s3.sh start` (it builds SeaweedFS into the toolchain cache when missing)";

export function testS3Client(): S3Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    region: "us-east-1",
    endpoint: S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Throws (so the test fails, not skips) when the test S3 server is not running. */
export async function requireS3(): Promise<void> {
  let status: number | string;
  try {
    const res = await fetch(`${S3_ENDPOINT}/`, { signal: AbortSignal.timeout(3_000) });
    await res.body?.cancel();
    status = res.status;
  } catch (err) {
    status = (err as Error).message;
  }
  if (status !== 403 && status !== 200) {
    throw new Error(`the test S3 server at ${S3_ENDPOINT} is not running (GET /: ${status}); ${START_HINT}`);
  }
}

let buckets = 0;

/** Creates a bucket with a name unique to this run. */
export async function createBucket(client: S3Client, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${++buckets}`.toLowerCase();
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export async function listKeys(client: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

export async function getObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

export async function etagOf(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return (out.ETag ?? "").replace(/"/g, "");
}

export async function putObject(client: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Empties and removes a bucket this run created. */
export async function removeBucket(client: S3Client, bucket: string): Promise<void> {
  for (const key of await listKeys(client, bucket)) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
