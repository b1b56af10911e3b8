/** The result of one preflight or verification check, as printed under --json. */
export interface CheckResult {
  readonly name: string;
  /** False only for a check that ran and failed. A skipped check is ok: it did not block, and says why it did not run. */
  readonly ok: boolean;
  readonly detail: string;
  /** Something to look at soon that does not fail the check (a license close to expiry). */
  readonly warning?: string;
  /** The check did not run; `detail` says why. */
  readonly skipped?: true;
}

export function pass(name: string, detail: string, warning?: string): CheckResult {
  return { name, ok: true, detail, ...(warning === undefined ? {} : { warning }) };
}

export function fail(name: string, detail: string): CheckResult {
  return { name, ok: false, detail };
}

export function skip(name: string, detail: string): CheckResult {
  return { name, ok: true, skipped: true, detail };
}

export function allPassed(checks: readonly CheckResult[]): boolean {
  return checks.every((c) => c.ok);
}

export function failedCheckNames(checks: readonly CheckResult[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => c.name);
}

function label(check: CheckResult): string {
  if (!check.ok) return "FAIL";
  if (check.skipped) return "SKIP";
  return check.warning === undefined ? "PASS" : "WARN";
}

/** One line per check: `PASS  ready       GET /ready answered 200 …`, warnings on their own indented line. */
export function formatChecks(checks: readonly CheckResult[]): string {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const check of checks) {
    lines.push(`${label(check)}  ${check.name.padEnd(width)}  ${check.detail}`);
    if (check.warning !== undefined) lines.push(`${" ".repeat(width + 8)}warning: ${check.warning}`);
  }
  return lines.join("\n");
}
