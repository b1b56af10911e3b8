import type { PlainConfig } from "./stack-config";

/** A stack config as history records it: `<namespace>:<key>` → value, secrets marked. */
export type RecordedConfig = Readonly<Record<string, { value: string; secret?: boolean } | undefined>>;

/** One key a rollback sets back: from its value now to the one the target version ran with (undefined: unset). */
export interface ConfigChange {
  readonly key: string;
  readonly from?: string;
  readonly to?: string;
}

/**
 * Every non-secret key whose value differs between the config now and the config version N ran with, in key
 * order: site values, values files, image repositories and every other setting go back with the tags.
 * Secrets are never taken from history (it holds them encrypted, and a rotated secret must stay rotated).
 */
export function fullConfigChanges(current: PlainConfig, target: RecordedConfig): ConfigChange[] {
  const secret = (key: string) => current[key]?.secret === true || target[key]?.secret === true;
  const keys = [...new Set([...Object.keys(current), ...Object.keys(target)])].filter((k) => !secret(k)).sort();
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    const from = current[key]?.value;
    const to = target[key]?.value;
    if (!sameValue(from, to)) {
      changes.push({ key, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
    }
  }
  return changes;
}

/** Object keys come back as JSON text, whose key order may differ between history and the workspace. */
function sameValue(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const pa = parseStructured(a);
  const pb = parseStructured(b);
  return pa !== undefined && pb !== undefined && canonical(pa) === canonical(pb);
}

/** The JSON object or array a config value holds as text; undefined for a plain string. */
export function parseStructured(text: string): unknown {
  const t = text.trim();
  if (!t.startsWith("{") && !t.startsWith("[")) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
