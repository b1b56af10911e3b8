/** Collects problems while reading typed values; each problem names `<project>:<key>` and the fix. */
export class Reader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  constructor(
    private readonly raw: Readonly<Record<string, unknown>>,
    private readonly project: string,
  ) {}

  key(name: string): string {
    return `${this.project}:${name}`;
  }

  problem(name: string, message: string): void {
    this.problems.push(`${this.key(name)}: ${message}`);
  }

  has(name: string): boolean {
    const value = this.raw[name];
    return value !== undefined && value !== "";
  }

  string(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === "") return undefined;
    return String(value);
  }

  requiredString(name: string, example: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) this.problem(name, `is required; set it with \`pulumi config set ${name} ${example}\``);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.string(name);
    if (value === undefined) {
      if (fallback === undefined) {
        this.problem(name, `is required; set it to one of ${allowed.join(", ")}`);
      }
      return fallback;
    }
    if (!(allowed as readonly string[]).includes(value)) {
      this.problem(name, `'${value}' is not one of ${allowed.join(", ")}`);
      return fallback;
    }
    return value as T;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (value === "true") return true;
    if (value === "false") return false;
    this.problem(name, `'${value}' is not a boolean; set it to true or false`);
    return fallback;
  }

  integer(name: string, fallback: number | undefined, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problem(name, `'${value}' must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  stringList(name: string): string[] | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      this.problem(name, `must be a list of strings, e.g. \`pulumi config set --path '${name}[0]' ...\``);
      return undefined;
    }
    return value as string[];
  }

  stringMap(name: string): Record<string, string> | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.problem(
        name,
        `must be an object of component → string, e.g. \`pulumi config set --path '${name}.api' ...\``,
      );
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") {
        this.problem(`${name}.${k}`, `must be a string, got ${JSON.stringify(v)}; quote it in the stack file`);
      } else {
        out[k] = v;
      }
    }
    return out;
  }
}
