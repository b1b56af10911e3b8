/** The diff in one line per purpose: counts by kind, and the image changes. */
import type { Change, ObjectDiff } from "./compare";
import type { ImageChange } from "./image-changes";
import { objectLabel } from "./manifest-objects";

export interface KindSummary {
  /** The kind, `Job (hook)` for hooks, so a changed migration hook stands out from the workloads. */
  readonly kind: string;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  readonly unchanged: number;
}

const REPORTED: readonly Exclude<Change, "unchanged">[] = ["added", "changed", "removed"];

/** Counts per kind, kinds in the order their first object comes. */
export function summariseByKind(objects: readonly ObjectDiff[]): KindSummary[] {
  const byKind = new Map<string, Record<Change, number>>();
  for (const object of objects) {
    const kind = object.hook === undefined ? object.key.kind : `${object.key.kind} (hook)`;
    const counts = byKind.get(kind) ?? { added: 0, changed: 0, removed: 0, unchanged: 0 };
    counts[object.change]++;
    byKind.set(kind, counts);
  }
  return [...byKind].map(([kind, counts]) => ({ kind, ...counts }));
}

/** "Deployment: 1 changed; ConfigMap: 1 added; Job (hook): 1 changed", or "no changes (N objects)". */
export function summaryLine(kinds: readonly KindSummary[]): string {
  const parts = kinds
    .map((k) => ({ kind: k.kind, counts: REPORTED.filter((c) => k[c] > 0).map((c) => `${k[c]} ${c}`) }))
    .filter((k) => k.counts.length > 0)
    .map((k) => `${k.kind}: ${k.counts.join(", ")}`);
  if (parts.length > 0) return parts.join("; ");
  const total = kinds.reduce((n, k) => n + k.unchanged, 0);
  return `no changes (${total} object${total === 1 ? "" : "s"} unchanged)`;
}

/** "Deployment alexandria/alexandria-ee-api api: reg/api:v1.4.0 → reg/api:v1.5.0", one per change. */
export function imageChangeLines(changes: readonly ImageChange[]): string[] {
  return changes.map((c) => `${objectLabel(c.object)} ${c.container}: ${c.from ?? "(none)"} → ${c.to ?? "(none)"}`);
}
