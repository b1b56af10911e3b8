import type { HistoryEntry, SnapshotRecord } from "./history";
import { describeTargets, TargetVersions, targetChanges } from "./targets";

export interface RollbackRequest {
  /** The stack's history, oldest first (buildHistory). */
  readonly history: readonly HistoryEntry[];
  readonly toVersion: number;
  /** The targets in the stack's config now. */
  readonly current: TargetVersions;
  /** The database's schema version now; undefined when no schemaVersionQuery is configured. */
  readonly currentSchemaVersion?: string | null;
  /** `auto` (the snapshot taken before the upgrade being undone) or a snapshot the operator names. */
  readonly restoreSnapshot?: "auto" | SnapshotRecord;
  /** The operator states the schema is compatible although it cannot be checked. */
  readonly keepDatabase?: boolean;
}

export interface RollbackPlan {
  readonly toVersion: number;
  readonly target?: HistoryEntry;
  readonly changes: { key: string; from?: string; to?: string }[];
  /** The steps `pulumi up` runs for the rollback, in order. */
  readonly steps: string[];
  readonly schema: { readonly current?: string | null; readonly target?: string | null; readonly moved?: boolean };
  readonly restore: { readonly needed: boolean; readonly snapshot?: SnapshotRecord; readonly reason: string };
  /** Why the rollback must not run as asked; the plan is still printed. */
  readonly refusal?: string;
}

const PIPELINE_STEPS = [
  "preflight: target tags exist, release revision recorded, pods healthy, database answers",
  "snapshot: a fresh pg_dump of the current database (new target, new snapshot)",
  "release: helm upgrade --atomic to the earlier target",
  "verification: /ready, /auth/setup, /license, api logs",
];

/**
 * The schema version the target ran with: recorded by the first snapshot taken after it, which dumped the
 * database just before the next release changed it. That snapshot is also the one to restore.
 */
function schemaOfTarget(history: readonly HistoryEntry[], toVersion: number): SnapshotRecord | undefined {
  // A later update that failed still took its snapshot before its release changed: it is evidence too.
  return history.find((e) => e.version > toVersion && e.snapshot !== undefined)?.snapshot;
}

/** Decides what a rollback to `toVersion` changes, whether it needs a restore, and whether it may run. Pure. */
export function planRollback(req: RollbackRequest): RollbackPlan {
  const target = req.history.find((e) => e.version === req.toVersion);
  const versions = req.history.map((e) => e.version).join(", ") || "none";
  const base = {
    toVersion: req.toVersion,
    changes: [],
    steps: PIPELINE_STEPS,
    schema: {},
    restore: { needed: false, reason: "" },
  };
  if (target === undefined) {
    return {
      ...base,
      refusal: `the stack has no version ${req.toVersion} (versions: ${versions}); see \`runbook history\``,
    };
  }
  if (target.kind !== "update" || target.result !== "succeeded") {
    return {
      ...base,
      target,
      refusal: `version ${req.toVersion} was a ${target.kind} that ended '${target.result}'; roll back to a version whose update succeeded`,
    };
  }
  if (Object.keys(target.targets.imageTags).length === 0) {
    return {
      ...base,
      target,
      refusal: `version ${req.toVersion} recorded no imageTags in its config; nothing to re-apply`,
    };
  }
  const changes = targetChanges(req.current, target.targets);
  const later = schemaOfTarget(req.history, req.toVersion);
  const targetSchema = later?.schemaVersion ?? undefined;
  const current = req.currentSchemaVersion;
  const known = current !== undefined && current !== null && targetSchema !== undefined && targetSchema !== null;
  const moved = known ? current !== targetSchema : undefined;
  const schema = { current, target: targetSchema, moved };
  const plan = { ...base, target, changes, schema };
  const named = req.restoreSnapshot === "auto" ? later : req.restoreSnapshot;

  if (named !== undefined) {
    return {
      ...plan,
      restore: {
        needed: true,
        snapshot: named,
        reason: `restore ${named.path} (schema ${named.schemaVersion ?? "unrecorded"}) as asked`,
      },
    };
  }
  if (req.restoreSnapshot === "auto" && later === undefined) {
    return {
      ...plan,
      refusal: `--restore-snapshot auto found no snapshot taken after version ${req.toVersion}; name one with --restore-snapshot PATH`,
    };
  }
  if (moved === true) {
    return {
      ...plan,
      restore: { needed: true, snapshot: later, reason: `the schema moved from ${targetSchema} to ${current}` },
      refusal:
        `the database schema is at ${current} but version ${req.toVersion} (${describeTargets(target.targets)}) ran with ` +
        `${targetSchema}: the older application would start against a newer schema. Re-run with ` +
        `--restore-snapshot auto to restore ${later?.path} (taken before the upgrade being undone), or ` +
        `--restore-snapshot PATH`,
    };
  }
  if (moved === undefined && !req.keepDatabase && changes.length > 0) {
    const why =
      current === undefined
        ? "no schemaVersionQuery is configured"
        : later === undefined
          ? `no snapshot records the schema version ${req.toVersion} ran with`
          : "a schema version was not recorded";
    return {
      ...plan,
      refusal:
        `cannot tell whether the schema moved since version ${req.toVersion} (${why}). Re-run with ` +
        `--restore-snapshot auto|PATH to restore, or --keep-database if you know the schema is compatible`,
    };
  }
  return {
    ...plan,
    restore: {
      needed: false,
      reason: moved === false ? `the schema is still at ${current}` : "kept as asked (--keep-database)",
    },
  };
}

/** The newest stack version whose update succeeded: what `--to last-good` means after a failed up. */
export function lastGoodVersion(history: readonly HistoryEntry[]): number | undefined {
  return [...history]
    .filter((e) => e.kind === "update" && e.result === "succeeded")
    .sort((a, b) => b.version - a.version)[0]?.version;
}
