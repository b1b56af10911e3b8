import path from "node:path";
import { UsageError } from "../errors";

export type SnapshotFormat = "custom" | "directory";
export const SNAPSHOT_FORMATS: readonly SnapshotFormat[] = ["custom", "directory"];

/** Extension of a custom-format snapshot; a directory-format snapshot is a directory named NAME. */
const CUSTOM_EXTENSION = ".dump";
export const MANIFEST_SUFFIX = ".manifest.json";

/** Backups kept next to a snapshot and committed with it (em-runtime's runbook: its Secrets and Redis). */
export const COMPANION_KINDS = ["kubernetes-secrets", "redis"] as const;
export type CompanionKind = (typeof COMPANION_KINDS)[number];
const COMPANION_SUFFIXES: Record<CompanionKind, string> = {
  "kubernetes-secrets": ".secrets.json",
  redis: ".redis.rdb",
};
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Where one named snapshot and its manifest live inside the output directory. */
export interface SnapshotLayout {
  readonly name: string;
  readonly outDir: string;
  /** The final snapshot: `DIR/NAME.dump` (custom) or `DIR/NAME/` (directory). */
  readonly finalPath: (format: SnapshotFormat) => string;
  readonly manifestPath: string;
  /** Where this process dumps before the rename; hidden, and named by pid so a stale one can be told apart. */
  readonly partialPath: string;
  readonly partialManifestPath: string;
  /** `DIR/NAME.secrets.json`, `DIR/NAME.redis.rdb`. */
  readonly companionPath: (kind: CompanionKind) => string;
  readonly companionPartialPath: (kind: CompanionKind) => string;
}

export function checkSnapshotName(name: string): string {
  const reserved = [MANIFEST_SUFFIX, CUSTOM_EXTENSION, ...Object.values(COMPANION_SUFFIXES)];
  if (!NAME_PATTERN.test(name) || reserved.some((suffix) => name.endsWith(suffix))) {
    throw new UsageError(
      `--name '${name}' is not a usable snapshot name: use 1-200 letters, digits, '.', '_' or '-', starting with a ` +
        `letter or digit, without a ${reserved.join(", ")} ending`,
    );
  }
  return name;
}

/** `<database>-<UTC time>`, e.g. `appdb-20240501T120000Z`; characters a file name should not carry become `_`. */
export function defaultSnapshotName(database: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
  const base = database.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._-]+/, "") || "db";
  return `${base.slice(0, 150)}-${stamp}`;
}

/** `base` for the first of several same-second names, then `base-2`, `base-3`... */
export function numberedName(base: string, attempt: number): string {
  return attempt === 1 ? base : `${base}-${attempt}`;
}

export function snapshotLayout(outDir: string, name: string, pid: number = process.pid): SnapshotLayout {
  const dir = path.resolve(outDir);
  return {
    name,
    outDir: dir,
    finalPath: (format) => path.join(dir, format === "custom" ? `${name}${CUSTOM_EXTENSION}` : name),
    manifestPath: path.join(dir, `${name}${MANIFEST_SUFFIX}`),
    partialPath: path.join(dir, `.${name}.partial-${pid}`),
    partialManifestPath: path.join(dir, `.${name}${MANIFEST_SUFFIX}.partial-${pid}`),
    companionPath: (kind) => path.join(dir, `${name}${COMPANION_SUFFIXES[kind]}`),
    companionPartialPath: (kind) => path.join(dir, `.${name}${COMPANION_SUFFIXES[kind]}.partial-${pid}`),
  };
}

/** Left-overs of this name from killed runs: `.NAME.partial-PID`, `.NAME.manifest.json.partial-PID`, companions'. */
export function partialOwnerPid(entry: string, name: string): number | undefined {
  const suffixes = ["", MANIFEST_SUFFIX, ...Object.values(COMPANION_SUFFIXES)];
  for (const prefix of suffixes.map((suffix) => `.${name}${suffix}.partial-`)) {
    if (entry.startsWith(prefix) && /^\d+$/.test(entry.slice(prefix.length))) return Number(entry.slice(prefix.length));
  }
  return undefined;
}

/** The manifest next to a snapshot path: `DIR/NAME.dump` or `DIR/NAME` → `DIR/NAME.manifest.json`. */
export function manifestPathFor(snapshotPath: string): string {
  const resolved = path.resolve(snapshotPath).replace(/\/+$/, "");
  if (resolved.endsWith(MANIFEST_SUFFIX)) return resolved;
  const base = resolved.endsWith(CUSTOM_EXTENSION) ? resolved.slice(0, -CUSTOM_EXTENSION.length) : resolved;
  return `${base}${MANIFEST_SUFFIX}`;
}
