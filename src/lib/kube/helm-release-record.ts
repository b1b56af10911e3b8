/**
 * One revision of a Helm release as Helm stores it (v3, Secret driver): the Secret
 * `sh.helm.release.v1.<release>.v<revision>` holds, under `release`, base64 of the gzipped JSON release.
 * Only the fields the runbook reads are typed here.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { latestRevision, readHelmHistory } from "./helm-release";
import { readSecretKey } from "./secret";
import type { KubeTarget } from "./target";

export interface HelmReleaseRecord {
  readonly name: string;
  readonly namespace: string;
  /** The revision number. */
  readonly version: number;
  readonly info: {
    readonly status: string;
    /** What made the revision: our description for a `pulumi up`, "Rollback to N", "Upgrade complete"… */
    readonly description: string;
  };
  readonly chart: {
    readonly metadata: { readonly name: string; readonly version: string; readonly appVersion?: string };
  };
  /** The user-supplied values (values files and inline values, merged). */
  readonly config: Record<string, unknown>;
  /** The rendered objects, as one YAML stream (hooks are separate in Helm's record and not included). */
  readonly manifest: string;
  /** The rendered hooks (objects annotated `helm.sh/hook`), one per object; empty when the chart has none. */
  readonly hooks?: readonly HelmHook[];
}

/** One hook of a release record, as Helm stores it. */
export interface HelmHook {
  readonly name: string;
  readonly kind: string;
  /** The template it came from, e.g. alexandria-ee/templates/migrate-job.yaml. */
  readonly path: string;
  /** The hook object as YAML. */
  readonly manifest: string;
  /** pre-install, pre-upgrade, post-upgrade, test… */
  readonly events: readonly string[];
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** The Secret name Helm stores a revision under. */
export function helmReleaseSecretName(release: string, revision: number): string {
  return `sh.helm.release.v1.${release}.v${revision}`;
}

/** Decodes the `release` value of Helm's Secret (already base64-decoded once by the Kubernetes API). */
export function decodeHelmReleaseRecord(storedValue: string): HelmReleaseRecord {
  let bytes = Buffer.from(storedValue, "base64");
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) bytes = gunzipSync(bytes);
  const parsed = JSON.parse(bytes.toString("utf8")) as Partial<HelmReleaseRecord> & {
    info?: Partial<HelmReleaseRecord["info"]>;
    chart?: { metadata?: Partial<HelmReleaseRecord["chart"]["metadata"]> };
  };
  return {
    name: String(parsed.name ?? ""),
    namespace: String(parsed.namespace ?? ""),
    version: Number(parsed.version ?? 0),
    info: { status: String(parsed.info?.status ?? "unknown"), description: String(parsed.info?.description ?? "") },
    chart: {
      metadata: {
        name: String(parsed.chart?.metadata?.name ?? ""),
        version: String(parsed.chart?.metadata?.version ?? ""),
        ...(parsed.chart?.metadata?.appVersion === undefined ? {} : { appVersion: parsed.chart.metadata.appVersion }),
      },
    },
    config: (parsed.config ?? {}) as Record<string, unknown>,
    manifest: String(parsed.manifest ?? ""),
    hooks: (Array.isArray(parsed.hooks) ? parsed.hooks : []).map(hookOf),
  };
}

function hookOf(raw: Partial<Record<keyof HelmHook, unknown>>): HelmHook {
  return {
    name: String(raw.name ?? ""),
    kind: String(raw.kind ?? ""),
    path: String(raw.path ?? ""),
    manifest: String(raw.manifest ?? ""),
    events: Array.isArray(raw.events) ? raw.events.map(String) : [],
  };
}

/** What Helm would store for this record (for tests and fixtures). */
export function encodeHelmReleaseRecord(record: unknown): string {
  return gzipSync(Buffer.from(JSON.stringify(record))).toString("base64");
}

/**
 * The record of the newest revision of `release`, read as `helm get` would: undefined when it was never
 * installed here, or was uninstalled (`helm uninstall --keep-history` leaves a record behind; nothing of it
 * runs any more). History is read as metadata only; one Secret is downloaded.
 */
export async function readLatestReleaseRecord(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): Promise<HelmReleaseRecord | undefined> {
  const latest = latestRevision(await readHelmHistory(release, target, env));
  if (latest === undefined || latest.status === "uninstalled") return undefined;
  return decodeHelmReleaseRecord(
    await readSecretKey(helmReleaseSecretName(release, latest.revision), "release", target, env),
  );
}
