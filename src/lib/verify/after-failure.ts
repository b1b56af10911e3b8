/**
 * What a failed verification does next, decided by the schema: when the migration version is still the
 * pre-upgrade snapshot's, the release is rolled back to the revision that served before the up (the old
 * application meets the schema it knows); when it moved, a Helm rollback would start the old application on
 * the newer schema, so the release stays and the way back is a rollback with the snapshot restored.
 */
export interface AfterFailure {
  /** The revision that served before the up (recorded by preflight). */
  readonly servedBefore?: number;
  /** The schema version recorded in the pre-upgrade snapshot; undefined when none was recorded. */
  readonly preUpgradeSchema?: string;
  /** The schema version now; undefined when it could not be read or no query is configured. */
  readonly liveSchema?: string;
}

export type FailureDecision =
  | { readonly action: "roll-back"; readonly toRevision: number; readonly reason: string }
  | { readonly action: "hold"; readonly reason: string; readonly schemaMoved: boolean };

export function decideAfterFailure(facts: AfterFailure): FailureDecision {
  if (facts.servedBefore === undefined) {
    return { action: "hold", schemaMoved: false, reason: "no revision served before this up (a first install)" };
  }
  if (facts.preUpgradeSchema === undefined || facts.liveSchema === undefined) {
    return {
      action: "hold",
      schemaMoved: false,
      reason:
        "whether the schema moved is unknown (no schemaVersionQuery, or no version recorded), so the release is " +
        "not rolled back on its own",
    };
  }
  if (facts.preUpgradeSchema !== facts.liveSchema) {
    return {
      action: "hold",
      schemaMoved: true,
      reason:
        `the schema moved from ${facts.preUpgradeSchema} to ${facts.liveSchema}: rolling the release back would ` +
        "start the previous application on the newer schema",
    };
  }
  return {
    action: "roll-back",
    toRevision: facts.servedBefore,
    reason: `the schema did not move (${facts.liveSchema})`,
  };
}
