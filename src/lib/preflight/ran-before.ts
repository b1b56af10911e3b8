/**
 * What this stack has already run, as its own snapshots record it: the pipeline snapshots the database before
 * every release change, and the manifest's context names the api tag that served then (fromApiTag). A tag
 * that served while the next upgrade began ran here; a rollback to it is a return, not an upgrade.
 */

/** One snapshot's record of what served when it was taken. */
export interface ServedRecord {
  /** The snapshot (path) that recorded it. */
  readonly snapshot: string;
  readonly createdAt: string;
  readonly schemaVersion: string | null;
  /** The api tag that served when the snapshot was taken. */
  readonly fromApiTag?: string;
}

/** The snapshots taken while `apiTag` served, newest first. */
export function takenWhileServing<T extends ServedRecord>(recorded: readonly T[], apiTag: string): T[] {
  return recorded.filter((r) => r.fromApiTag === apiTag).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Evidence that `apiTag` already ran in this stack: the newest snapshot taken while it served. */
export interface RanBefore {
  readonly tag: string;
  readonly snapshot: string;
  readonly createdAt: string;
}

export function ranBefore(recorded: readonly ServedRecord[], apiTag: string | undefined): RanBefore | undefined {
  if (apiTag === undefined) return undefined;
  const newest = takenWhileServing(recorded, apiTag)[0];
  return newest === undefined ? undefined : { tag: apiTag, snapshot: newest.snapshot, createdAt: newest.createdAt };
}
