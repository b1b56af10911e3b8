/**
 * Log lines that mean the api did not start cleanly. Case matters where it separates a log level from
 * ordinary words: `ERROR` and `FATAL` are levels, "0 errors" is not.
 */
export const STARTUP_ERROR_PATTERNS: readonly LogErrorPattern[] = [
  { name: "panic", pattern: /\bpanic\b/ }, // Go runtime panics: "panic: runtime error: ..."
  { name: "fatal", pattern: /\bfatal\b/ }, // log.Fatal, "level=fatal"
  { name: "FATAL", pattern: /\bFATAL\b/ }, // PostgreSQL and plain-text loggers
  { name: "level=error", pattern: /\blevel=error\b/ }, // logfmt (logrus, slog text)
  { name: '"level":"error"', pattern: /"level"\s*:\s*"error"/ }, // JSON loggers (zap, slog JSON)
  { name: "migration failed", pattern: /migration failed/i }, // ApplySchema on startup
  { name: "ERROR", pattern: /\bERROR\b/ }, // plain-text level
];

/** A log line that means trouble, and the name it is reported by (never the application's text). */
export interface LogErrorPattern {
  readonly name: string;
  readonly pattern: RegExp;
}

export interface StartupErrorLine {
  readonly line: string;
  /** Name of the first pattern it matched. */
  readonly pattern: string;
}

/** The lines that match one of `patterns` (default: the startup errors), each with the first pattern it matched. */
export function findStartupErrors(
  lines: readonly string[],
  patterns: readonly LogErrorPattern[] = STARTUP_ERROR_PATTERNS,
): StartupErrorLine[] {
  const found: StartupErrorLine[] = [];
  for (const line of lines) {
    const hit = patterns.find((p) => p.pattern.test(line));
    if (hit !== undefined) found.push({ line, pattern: hit.name });
  }
  return found;
}

/**
 * Log lines can quote connection strings: mask any `scheme://user:password@` (Redis's `redis://:password@`
 * too) before a line is printed.
 */
export function maskUrlPasswords(line: string): string {
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@]+@/gi, "$1***@");
}
