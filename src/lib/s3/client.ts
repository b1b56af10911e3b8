import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { OperationFailed } from "../errors";
import { redactSecrets } from "../redact";
import { credentialsFromEnv } from "./credentials";
import { BucketLocation, objectUrl } from "./location";

export interface BucketSettings {
  readonly location: BucketLocation;
  /** An S3-compatible server (MinIO, SeaweedFS, GCS interoperability): its URL; addressed path-style. */
  readonly endpoint?: string;
  /** Default us-east-1 (S3-compatible servers mostly ignore it, but the request signature needs one). */
  readonly region?: string;
}

/** Parts of a multipart upload: large enough to keep the part count low, small enough to retry cheaply. */
const PART_BYTES = 16 * 1024 * 1024;

/**
 * The objects of one bucket under one prefix, as the snapshot store uses them: upload a file (multipart for
 * large ones), read an object as a stream, list the keys under the prefix. Errors name the object and never
 * carry a credential.
 */
export class BucketClient {
  private readonly client: S3Client;

  constructor(
    readonly settings: BucketSettings,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    const credentials = credentialsFromEnv(env);
    // The SDK warns on Node < 22 that its releases after January 2027 will need Node 22; this project pins its
    // SDK version and runs on Node 20, and the warning would otherwise land in every snapshot's output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    this.client = new S3Client({
      region: settings.region ?? "us-east-1",
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint, forcePathStyle: true }),
      ...(credentials === undefined ? {} : { credentials }),
      // A checksum header on every request would be computed for the server to check; the store checks what it
      // reads back itself (sha256 of every object against the manifest), which any S3-compatible server allows.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
    });
  }

  get location(): BucketLocation {
    return this.settings.location;
  }

  /** `s3://bucket/prefix/relative`. */
  url(relative: string): string {
    return objectUrl(this.location, this.key(relative));
  }

  private key(relative: string): string {
    return `${this.location.prefix}${relative}`;
  }

  /** Fails with what the server said when the bucket cannot be reached with these settings. */
  async checkReachable(): Promise<void> {
    await this.call(`s3://${this.location.bucket}`, "reach", () =>
      this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket })),
    );
  }

  /** Uploads a file to PREFIX/relative (multipart above PART_BYTES). */
  async putFile(relative: string, file: string, signal?: AbortSignal): Promise<void> {
    await this.call(this.url(relative), "upload", async () => {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.location.bucket, Key: this.key(relative), Body: createReadStream(file) },
        partSize: PART_BYTES,
        queueSize: 2,
        leavePartsOnError: false,
      });
      signal?.addEventListener("abort", () => void upload.abort(), { once: true });
      await upload.done();
    });
  }

  /** The object's bytes as a stream; undefined when there is no such object. */
  async get(relative: string): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: this.key(relative) }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (err instanceof NoSuchKey || (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) {
        return undefined;
      }
      throw this.failure(this.url(relative), "read", err);
    }
  }

  /** Keys directly under the prefix (relative to it), not those in deeper "directories". */
  async listTopLevel(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(this.url(""), "list", () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.location.bucket,
            Prefix: this.location.prefix,
            Delimiter: "/",
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key.slice(this.location.prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  destroy(): void {
    this.client.destroy();
  }

  private async call<T>(what: string, verb: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.failure(what, verb, err);
    }
  }

  /** An error naming the object, the server's answer and the endpoint; credentials redacted. */
  private failure(what: string, verb: string, err: unknown): OperationFailed {
    const e = err as Error & { $metadata?: { httpStatusCode?: number }; Code?: string };
    const status = e.$metadata?.httpStatusCode;
    const answer = [e.name, status === undefined ? undefined : `HTTP ${status}`, e.message]
      .filter((part) => part !== undefined && part !== "")
      .join(": ");
    const where = this.settings.endpoint === undefined ? "" : ` at ${this.settings.endpoint}`;
    const hint =
      status === 403 || e.name === "InvalidAccessKeyId" || e.name === "SignatureDoesNotMatch"
        ? "; check the store's credentials (snapshotStoreAccessKeyId/snapshotStoreSecretAccessKey, or RUNBOOK_STORE_ACCESS_KEY_ID/RUNBOOK_STORE_SECRET_ACCESS_KEY)"
        : status === 404 && e.name === "NoSuchBucket"
          ? "; create the bucket, or fix the bucket name in snapshotStore"
          : "";
    return new OperationFailed(redactSecrets(`cannot ${verb} ${what}${where}: ${answer}${hint}`, this.env));
  }
}
