/** A bucket and a key prefix: where `s3://BUCKET/PREFIX` points. The prefix is empty or ends with `/`. */
export interface BucketLocation {
  readonly bucket: string;
  readonly prefix: string;
}

/** S3's rules for bucket names (3-63 characters; lower-case letters, digits, dots and hyphens). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isBucketUrl(text: string): boolean {
  return text.startsWith("s3://");
}

/** Parses `s3://bucket` or `s3://bucket/some/prefix`; a problem (what is wrong, how to write it) otherwise. */
export function parseBucketUrl(url: string): BucketLocation | { problem: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  const bucket = match?.[1] ?? "";
  if (match === null || !BUCKET_NAME.test(bucket)) {
    return {
      problem:
        `'${url}' is not a bucket URL: write s3://BUCKET or s3://BUCKET/PREFIX (bucket names are 3-63 ` +
        "lower-case letters, digits, '.' or '-')",
    };
  }
  const prefix = (match[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((part) => part === "." || part === "..")) {
    return { problem: `'${url}': the prefix must not contain '.' or '..' segments` };
  }
  return { bucket, prefix: prefix === "" ? "" : `${prefix}/` };
}

/** `s3://bucket/prefix/key`, how an object is named in messages. */
export function objectUrl(location: BucketLocation, key: string): string {
  return `s3://${location.bucket}/${key}`;
}
