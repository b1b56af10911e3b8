import type { HelmRevision } from "../kube/helm-release";
import { TargetVersions, targetsFromConfig } from "./targets";

/** What `pulumi stack history` says of one update (the Automation API's UpdateSummary, narrowed). */
export interface UpdateRecord {
  readonly version: number;
  readonly kind: string;
  readonly result: string;
  readonly startTime: string | Date;
  readonly endTime?: string | Date;
  readonly config: Readonly<Record<string, { value: string; secret?: boolean } | undefined>>;
}

/** A snapshot manifest, narrowed to what history needs. */
export interface SnapshotRecord {
  readonly name: string;
  readonly path: string;
  readonly manifestPath: string;
  readonly sha256: string;
  readonly createdAt: string;
  readonly schemaVersion: string | null;
  readonly context?: Record<string, unknown>;
  /** Files saved with the dump (Kubernetes Secrets, Redis), by kind. */
  readonly companions?: { readonly kind: string; readonly path: string }[];
  /** The manifest's URL in the snapshot store, when it is there; `path` is then where restore downloads it. */
  readonly stored?: string;
  /** true when this machine has no copy: restore and rollback download it from the store first. */
  readonly storeOnly?: boolean;
}

/** A Helm release revision with the time Helm stored it, as readHelmHistory reads it. */
export type ReleaseRevisionRecord = HelmRevision;

export interface HistoryEntry {
  readonly version: number;
  readonly kind: string;
  readonly result: string;
  readonly startTime: string;
  readonly endTime?: string;
  readonly targets: TargetVersions;
  /** Every non-secret key of the config the update ran with (`<namespace>:<key>` → value). */
  readonly config: Readonly<Record<string, { value: string }>>;
  /** The snapshot this update took (before its release changed), if any. */
  readonly snapshot?: SnapshotRecord;
  /** The Helm revision this update produced, when the cluster was read; null when it produced none. */
  readonly releaseRevision?: number | null;
}

const toDate = (d: string | Date) => (d instanceof Date ? d : new Date(d));

/** Whether `at` falls inside the update's window (a little slack for clocks and for writes at the end). */
function within(at: Date, start: Date, end: Date | undefined): boolean {
  const slackMs = 5_000;
  return at.getTime() >= start.getTime() - slackMs && (end === undefined || at.getTime() <= end.getTime() + slackMs);
}

/**
 * Joins the stack's updates with the snapshots each took and the release revision each produced, oldest
 * first. A snapshot belongs to the update during which its manifest was written; a revision to the update
 * during which Helm created it.
 */
export function buildHistory(
  updates: readonly UpdateRecord[],
  snapshots: readonly SnapshotRecord[],
  revisions?: readonly ReleaseRevisionRecord[],
): HistoryEntry[] {
  return [...updates]
    .sort((a, b) => a.version - b.version)
    .map((u) => {
      const start = toDate(u.startTime);
      const end = u.endTime === undefined ? undefined : toDate(u.endTime);
      const snapshot = snapshots
        .filter((s) => within(new Date(s.createdAt), start, end))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
      let releaseRevision: number | null | undefined;
      if (revisions !== undefined) {
        const produced = revisions.filter((r) => r.createdAt !== undefined && within(r.createdAt, start, end));
        releaseRevision = produced.length === 0 ? null : Math.max(...produced.map((r) => r.revision));
      }
      return {
        version: u.version,
        kind: u.kind,
        result: u.result,
        startTime: start.toISOString(),
        ...(end === undefined ? {} : { endTime: end.toISOString() }),
        targets: targetsFromConfig(u.config),
        config: nonSecret(u.config),
        ...(snapshot === undefined ? {} : { snapshot }),
        ...(releaseRevision === undefined ? {} : { releaseRevision }),
      };
    });
}

function nonSecret(config: UpdateRecord["config"]): Record<string, { value: string }> {
  const out: Record<string, { value: string }> = {};
  for (const [key, entry] of Object.entries(config)) {
    if (entry !== undefined && entry.secret !== true) out[key] = { value: entry.value };
  }
  return out;
}
