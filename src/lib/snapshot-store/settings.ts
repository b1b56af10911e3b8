import path from "node:path";
import { UsageError } from "../errors";
import { BucketLocation, isBucketUrl, parseBucketUrl } from "../s3/location";

/**
 * Where snapshots are kept beyond the machine that took them: a bucket (S3, or an S3-compatible server at
 * `endpoint`), or a directory (a shared mount). Credentials are not settings: they come from the environment.
 */
export type StoreSettings =
  | {
      readonly kind: "bucket";
      readonly url: string;
      readonly location: BucketLocation;
      readonly endpoint?: string;
      readonly region?: string;
    }
  | { readonly kind: "directory"; readonly url: string; readonly dir: string };

/** What the config (snapshotStore, snapshotStoreEndpoint, snapshotStoreRegion) or the CLI (--store...) gave. */
export interface StoreInput {
  readonly store?: string;
  readonly endpoint?: string;
  readonly region?: string;
}

/** The names of the three settings where they were given, for the messages: config keys or CLI flags. */
export interface StoreInputNames {
  readonly store: string;
  readonly endpoint: string;
  readonly region: string;
}

export const CONFIG_KEYS: StoreInputNames = {
  store: "snapshotStore",
  endpoint: "snapshotStoreEndpoint",
  region: "snapshotStoreRegion",
};
export const CLI_FLAGS: StoreInputNames = { store: "--store", endpoint: "--store-endpoint", region: "--store-region" };

/** A setting that cannot be used: which one (config key or flag) and what is wrong with it. */
export class StoreSettingProblem extends UsageError {
  constructor(
    readonly setting: string,
    readonly problem: string,
  ) {
    super(`${setting} ${problem}`);
  }
}

/**
 * Validates the store settings (relative directories against baseDir). Undefined when no store is given:
 * snapshots then stay in the snapshot directory only. Throws StoreSettingProblem naming the setting and the fix.
 */
export function parseStoreSettings(
  input: StoreInput,
  names: StoreInputNames,
  baseDir: string,
): StoreSettings | undefined {
  const store = input.store?.trim() ?? "";
  const endpoint = input.endpoint?.trim() || undefined;
  const region = input.region?.trim() || undefined;
  const extra = endpoint !== undefined ? names.endpoint : region !== undefined ? names.region : undefined;
  if (store === "") {
    if (extra !== undefined) {
      throw new StoreSettingProblem(
        extra,
        `is set but ${names.store} is not: set ${names.store} to s3://BUCKET/PREFIX`,
      );
    }
    return undefined;
  }
  if (!isBucketUrl(store)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(store)) {
      throw new StoreSettingProblem(
        names.store,
        `'${store}': only s3:// URLs (S3 and S3-compatible servers) or a directory are supported`,
      );
    }
    if (extra !== undefined) {
      throw new StoreSettingProblem(extra, `only goes with an s3:// ${names.store}, not a directory`);
    }
    const dir = path.resolve(baseDir, store);
    return { kind: "directory", url: dir, dir };
  }
  const location = parseBucketUrl(store);
  if ("problem" in location) throw new StoreSettingProblem(names.store, location.problem);
  if (endpoint !== undefined && !isEndpointUrl(endpoint)) {
    throw new StoreSettingProblem(
      names.endpoint,
      `'${endpoint}' is not an endpoint URL: give http(s)://HOST[:PORT] of the S3-compatible server, without credentials`,
    );
  }
  if (region !== undefined && !/^[a-z0-9-]{1,64}$/.test(region)) {
    throw new StoreSettingProblem(names.region, `'${region}' is not a region name (e.g. us-east-1)`);
  }
  return {
    kind: "bucket",
    url: `s3://${location.bucket}/${location.prefix}`,
    location,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
  };
}

function isEndpointUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return /^https?:$/.test(url.protocol) && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}
