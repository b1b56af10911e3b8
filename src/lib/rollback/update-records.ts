import type { Stack } from "@pulumi/pulumi/automation";
import type { UpdateRecord } from "./history";

type Update = Awaited<ReturnType<Stack["history"]>>[number];

/**
 * The file backend records no version numbers (every update says 0), while the Pulumi Cloud numbers
 * each operation from 1. Where none is recorded, number them the same way: oldest first, from 1.
 */
export function numberUpdates(updates: readonly Update[]): UpdateRecord[] {
  const records = updates.map((u) => ({
    ...u,
    version: u.version ?? 0,
    result: String(u.result),
    kind: String(u.kind),
  }));
  if (records.some((u) => u.version > 0)) return records;
  return records
    .sort((a, b) => new Date(a.startTime).getTime() - new Date(b.startTime).getTime())
    .map((u, i) => ({ ...u, version: i + 1 }));
}
