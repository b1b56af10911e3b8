/**
 * Never start an older application on a newer schema by accident. A plain `pulumi up` of an earlier target
 * (a git revert of the stack file) would do just that after a migration. The snapshots say what schema each
 * version ran with: a snapshot taken while tag T served (its context's fromApiTag) recorded T's schema. When
 * the live schema is newer than the one the target last ran with, preflight refuses and names the restore
 * that `runbook rollback` would do.
 */
import { CheckResult, fail, pass, skip } from "../check";
import { ServedRecord, takenWhileServing } from "./ran-before";

const NAME = "schema-guard";

export type RecordedSchema = ServedRecord;

export interface SchemaGuardInput {
  readonly targetApiTag?: string;
  /** The schema version now; undefined without a schema query. */
  readonly liveSchema?: string | null;
  readonly recorded: readonly RecordedSchema[];
  /** The stack, named in the way out. */
  readonly stack?: string;
}

/** Numeric versions are ordered; others (Alembic revision ids) can only be compared for equality. */
function isNewer(live: string, ran: string): boolean | undefined {
  const a = Number(live);
  const b = Number(ran);
  if (live.trim() === "" || ran.trim() === "" || !Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return a > b;
}

export function checkSchemaGuard(input: SchemaGuardInput): CheckResult {
  const { targetApiTag, liveSchema } = input;
  if (targetApiTag === undefined) return skip(NAME, "no api target to compare");
  if (liveSchema === undefined || liveSchema === null)
    return skip(NAME, "no schema version (schemaVersionQuery) to compare");
  const ran = takenWhileServing(input.recorded, targetApiTag).find((r) => r.schemaVersion !== null);
  if (ran === undefined) {
    return pass(
      NAME,
      `${targetApiTag} has not run here before (no snapshot taken while it served): nothing to compare`,
    );
  }
  const newer = isNewer(liveSchema, ran.schemaVersion as string);
  if (newer === true) {
    return fail(
      NAME,
      `the live schema is ${liveSchema}, newer than ${ran.schemaVersion}, the schema ${targetApiTag} last ran with ` +
        `(snapshot ${ran.snapshot}): starting ${targetApiTag} would meet a schema it does not know. Roll back with ` +
        `the restore instead: runbook rollback --stack ${input.stack ?? "<stack>"} --to <the version that ran ${targetApiTag}> ` +
        `--restore-snapshot ${ran.snapshot} (runbook history lists the versions)`,
    );
  }
  if (newer === undefined && liveSchema !== ran.schemaVersion) {
    return pass(
      NAME,
      `the live schema ${liveSchema} differs from ${ran.schemaVersion}, which ${targetApiTag} last ran with; ` +
        "these versions cannot be ordered, so this is not refused (runbook rollback compares them)",
      `the live schema differs from the one ${targetApiTag} last ran with: check this is not a downgrade`,
    );
  }
  return pass(
    NAME,
    `the live schema ${liveSchema} is not newer than ${ran.schemaVersion}, which ${targetApiTag} last ran with`,
  );
}
