import { UsageError } from "../errors";

/**
 * A database name pattern as pg_dumpall's --exclude-database reads it (psql's rules for names): `*` any
 * characters, `?` one character, letters outside double quotes folded to lower case, `"..."` taken literally
 * (`""` is a quote). The whole name must match.
 */
export function databasePattern(pattern: string): RegExp {
  return flagPattern("--exclude-database", pattern);
}

/** The same pattern, named by the flag it came from in its errors (--include-database). */
export function flagPattern(flag: string, pattern: string): RegExp {
  if (pattern === "") throw new UsageError(`${flag} must not be empty: give a database name or pattern`);
  const chars = Array.from(pattern); // code points, so a character outside the BMP stays one
  let source = "";
  let quoted = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '"') {
      if (quoted && chars[i + 1] === '"') {
        source += '"';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (!quoted && c === "*") {
      source += "[\\s\\S]*";
    } else if (!quoted && c === "?") {
      source += "[\\s\\S]";
    } else {
      source += escapeRegExp(quoted ? c : c.toLowerCase());
    }
  }
  if (quoted) throw new UsageError(`${flag} '${pattern}' has an unterminated double quote`);
  return new RegExp(`^${source}$`, "u");
}

/** The names that match none of the patterns, in their order. */
export function withoutExcluded(names: readonly string[], patterns: readonly RegExp[]): string[] {
  return names.filter((name) => !patterns.some((p) => p.test(name)));
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
