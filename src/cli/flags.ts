import { ParsedValues } from "./command";
import { UsageError } from "../lib/errors";

/** A string flag's trimmed value; undefined when absent, a usage error when given empty. */
export function optionalString(values: ParsedValues, flag: string): string | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${flag} must not be empty`);
  return value.trim();
}
