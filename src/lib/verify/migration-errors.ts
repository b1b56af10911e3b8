import { LogErrorPattern, STARTUP_ERROR_PATTERNS } from "./startup-errors";

/**
 * Log lines of an em-runtime service (governance, assets, utils) that mean its Alembic migration on startup
 * failed, in the words of the upgrade guide's troubleshooting section, then the startup errors every service
 * can print. The first that matches names the line in the report.
 */
export const MIGRATION_ERROR_PATTERNS: readonly LogErrorPattern[] = [
  // "Database migration conflict (two migrations with same parent)": Alembic refuses to pick a head.
  { name: "alembic multiple heads", pattern: /Multiple head revisions|multiple heads/i },
  // The database holds a revision this image does not know (a downgrade across a migration, or a lost file).
  { name: "alembic unknown revision", pattern: /Can't locate revision|No such revision/i },
  { name: "alembic CommandError", pattern: /\bCommandError\b/ },
  // "Missing database or extension".
  { name: "database does not exist", pattern: /database "[^"]*" does not exist/i },
  {
    name: "missing extension",
    pattern: /extension "[^"]*" (?:is not available|does not exist)|could not open extension control file/i,
  },
  // "Incompatible secret format": pydantic-settings rejects the values the Secret gives the service.
  { name: "settings validation", pattern: /validation errors? for \w*Settings\b/ },
  { name: "sqlalchemy error", pattern: /\bsqlalchemy\.exc\.\w+/ },
  { name: "Traceback", pattern: /\bTraceback \(most recent call last\)/ },
  { name: "CRITICAL", pattern: /\bCRITICAL\b/ }, // Python logging's highest level
  ...STARTUP_ERROR_PATTERNS,
];
