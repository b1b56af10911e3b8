/**
 * Collects the problems and warnings of one validation; each problem names `<project>:<key>` and the fix.
 * The keys' own types are parsed by the schema (keys.ts); what is checked here relates keys, files and the
 * profile.
 */
import type { ConfigKey } from "./keys";

export class Reader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  /** @param setKeys the keys the stack set (not merely Pulumi.yaml's injected default) */
  constructor(
    private readonly project: string,
    private readonly setKeys: ReadonlySet<ConfigKey>,
  ) {}

  key(name: string): string {
    return `${this.project}:${name}`;
  }

  problem(name: string, message: string): void {
    this.problems.push(`${this.key(name)}: ${message}`);
  }

  /** Whether the stack set this key to something other than "" or an empty object or list. */
  has(name: ConfigKey): boolean {
    return this.setKeys.has(name);
  }
}
