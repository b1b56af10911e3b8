import type { ParsedValues } from "./command";
import { optionalString } from "./flags";
import { STORE_ACCESS_KEY_ENV, STORE_SECRET_KEY_ENV } from "../lib/s3/credentials";
import { CLI_FLAGS, StoreSettings, parseStoreSettings } from "../lib/snapshot-store/settings";

/** The option definitions of the snapshot store, shared by snapshot and restore. */
export const STORE_OPTIONS = {
  store: { type: "string" },
  "store-endpoint": { type: "string" },
  "store-region": { type: "string" },
} as const;

export const STORE_HELP = `snapshot store (a copy that is not on this machine):
  --store URL               s3://BUCKET/PREFIX (S3 or an S3-compatible server), or a directory (a shared
                            mount)
  --store-endpoint URL      the S3-compatible server, http(s)://HOST:PORT (MinIO, SeaweedFS, GCS
                            interoperability); addressed path-style. Default: AWS S3
  --store-region REGION     default us-east-1
  credentials in the environment only: ${STORE_ACCESS_KEY_ENV} and ${STORE_SECRET_KEY_ENV},
  else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else AWS_PROFILE / instance role`;

/** --store, --store-endpoint, --store-region; undefined when --store is not given. */
export function storeFromFlags(values: ParsedValues): StoreSettings | undefined {
  return parseStoreSettings(
    {
      store: optionalString(values, "store"),
      endpoint: optionalString(values, "store-endpoint"),
      region: optionalString(values, "store-region"),
    },
    CLI_FLAGS,
    process.cwd(),
  );
}
