/**
 * What a failed verification does next, decided by the schema: when the migration version is still the
 * pre-upgrade snapshot's, the release is rolled back to the revision that served before the up (the old
 * application meets the schema it knows); when it moved, a Helm rollback would start the old application on
 * the newer schema, so the release stays and the way back is a rollback with the snapshot restored.
 * A server snapshot (em-runtime) decides the same way over every database it saved: each one's Alembic version.
 */

/** One database of a server snapshot: its Alembic version as the snapshot recorded it and as it is now. */
export interface DatabaseSchemaNow {
  readonly database: string;
  /** alembic_version as the snapshot recorded it; null when the database had no such table. */
  readonly before: string | null;
  /** alembic_version now; null when the database has no such table (or is gone). */
  readonly now: string | null;
  /** The database is no longer on the server. */
  readonly gone: boolean;
}

/** Every database of the server snapshot compared, or why they could not be. */
export type ServerSchemas = { readonly databases: readonly DatabaseSchemaNow[] } | { readonly unknown: string };

export interface AfterFailure {
  /** The revision that served before the up (recorded by preflight). */
  readonly servedBefore?: number;
  /** The schema version recorded in the pre-upgrade snapshot; undefined when none was recorded. */
  readonly preUpgradeSchema?: string;
  /** The schema version now; undefined when it could not be read or no query is configured. */
  readonly liveSchema?: string;
  /** Server scope: every database's schema before and now, which replaces preUpgradeSchema and liveSchema. */
  readonly serverSchemas?: ServerSchemas;
}

export type FailureDecision =
  | { readonly action: "roll-back"; readonly toRevision: number; readonly reason: string }
  | { readonly action: "hold"; readonly reason: string; readonly schemaMoved: boolean };

export function decideAfterFailure(facts: AfterFailure): FailureDecision {
  if (facts.servedBefore === undefined) {
    return { action: "hold", schemaMoved: false, reason: "no revision served before this up (a first install)" };
  }
  if (facts.serverSchemas !== undefined) return decideByServer(facts.servedBefore, facts.serverSchemas);
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

function decideByServer(servedBefore: number, schemas: ServerSchemas): FailureDecision {
  if ("unknown" in schemas) {
    return {
      action: "hold",
      schemaMoved: false,
      reason: `whether a database's schema moved is unknown (${schemas.unknown}), so the release is not rolled back on its own`,
    };
  }
  const moved = schemas.databases.filter((d) => d.gone || d.before !== d.now);
  if (moved.length > 0) {
    const changes = moved.map((d) =>
      d.gone ? `${d.database} is gone` : `${d.database} moved from ${d.before ?? "none"} to ${d.now ?? "none"}`,
    );
    return {
      action: "hold",
      schemaMoved: true,
      reason:
        `the schema moved (${changes.join("; ")}): rolling the release back would start the previous ` +
        "application on the newer schema",
    };
  }
  const versions = schemas.databases.filter((d) => d.now !== null).map((d) => `${d.database} ${d.now}`);
  return {
    action: "roll-back",
    toRevision: servedBefore,
    reason:
      `no database's schema moved since the server snapshot` +
      (versions.length === 0 ? "" : ` (${versions.join(", ")})`),
  };
}
