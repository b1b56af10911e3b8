import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../errors";
import { writeJsonDurably } from "../snapshot/durable-fs";
import type { ConfigChange } from "./full-target";
import type { ReleaseLocation, WorkloadReplicas } from "./workloads";

/**
 * The steps of a rollback, in order; the journal records the last one completed. Until database-restored the
 * database is the one the application ran on; from scaled-down until verified the release runs no pods.
 */
export const ROLLBACK_STEPS = [
  "rollback-planned", // the journal exists; nothing changed yet
  "scaled-down", // the release's workloads run zero replicas: nothing writes to or migrates the database
  "database-restored", // a fresh snapshot of the current database was taken, then the chosen one restored
  "release-applied", // pulumi up to version N's config (preflight, snapshot, release, verification)
  "verified", // the workloads are back at their replicas, running version N's images: complete
] as const;
export type RollbackStep = (typeof ROLLBACK_STEPS)[number];

const KIND = "runbook-rollback-journal";
export const ROLLBACK_JOURNAL_SUFFIX = ".rollback-journal.json";

export interface RollbackJournal {
  readonly kind: typeof KIND;
  readonly version: 1;
  readonly status: "running" | "completed" | "aborted";
  readonly step: RollbackStep;
  /** The step (or the abort) under way when the journal was last written; it may or may not have happened. */
  readonly doing?: RollbackStep | "abort";
  readonly stack: string;
  readonly toVersion: number;
  /** The target in words, for messages. */
  readonly target: string;
  readonly release: ReleaseLocation;
  /** The database the rollback restores (its lock key). */
  readonly database?: string;
  /** The snapshot to restore; absent when the database is kept. */
  readonly restoreSnapshot?: string;
  /** The restore the rollback ran: its journal, the fresh snapshot it took first, and the database it kept. */
  readonly restore?: {
    readonly journal?: string;
    readonly preRestoreSnapshot?: string;
    readonly keptDatabase?: string;
  };
  /** --abort put the pre-rollback database back (an abort resumed after a crash does not do it twice). */
  readonly databasePutBack?: boolean;
  /** The replicas each workload ran before the rollback (the cluster records them too, in an annotation). */
  readonly workloads?: WorkloadReplicas[];
  /** The keys `pulumi up` sets back to version N's values. */
  readonly configChanges: ConfigChange[];
  /** A copy of the stack file as it was before the rollback: what --abort puts back. */
  readonly stackFileBefore: string;
  readonly update?: { readonly version?: number; readonly result: string };
  /** When each step completed (the order the steps really ran in, e.g. scaled down before the restore). */
  readonly completedAt?: Partial<Record<RollbackStep, string>>;
  /** The last failure, for whoever resumes. */
  readonly failure?: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly startedBy: { readonly user: string; readonly host: string; readonly pid: number };
}

export function stepIndex(step: RollbackStep): number {
  return ROLLBACK_STEPS.indexOf(step);
}

/** `<dir>/<stack>-rollback-<time>.rollback-journal.json`, next to the stack's snapshots. */
export function rollbackJournalPath(dir: string, stack: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return path.join(dir, `${stack}-rollback-${stamp}${ROLLBACK_JOURNAL_SUFFIX}`);
}

export function startedBy(): RollbackJournal["startedBy"] {
  return { user: os.userInfo().username, host: os.hostname(), pid: process.pid };
}

/** Atomic: a temporary file, flushed, renamed over the journal, the directory flushed. */
async function writeJournal(file: string, journal: RollbackJournal): Promise<void> {
  await writeJsonDurably(file, journal);
}

export async function readRollbackJournal(file: string): Promise<RollbackJournal> {
  let parsed: Partial<RollbackJournal>;
  try {
    parsed = JSON.parse(await fs.readFile(file, "utf8")) as Partial<RollbackJournal>;
  } catch (err) {
    throw new UsageError(`cannot read the rollback journal ${file}: ${(err as Error).message}`);
  }
  if (parsed.kind !== KIND || parsed.version !== 1 || !ROLLBACK_STEPS.includes(parsed.step as RollbackStep)) {
    throw new UsageError(`${file} is not a rollback journal of this runbook (kind ${KIND}, version 1)`);
  }
  return parsed as RollbackJournal;
}

/** The rollback journals of a stack in a directory, oldest first. */
export async function rollbackJournals(
  dir: string,
  stack: string,
): Promise<{ file: string; journal: RollbackJournal }[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const found: { file: string; journal: RollbackJournal }[] = [];
  for (const entry of entries.filter((e) => e.endsWith(ROLLBACK_JOURNAL_SUFFIX) && !e.startsWith("."))) {
    const file = path.join(dir, entry);
    const journal = await readRollbackJournal(file).catch(() => undefined);
    if (journal !== undefined && journal.stack === stack) found.push({ file, journal });
  }
  return found.sort((a, b) => a.journal.startedAt.localeCompare(b.journal.startedAt));
}

/** Keeps the journal on disk in step with the rollback it records. */
export class RollbackJournalFile {
  constructor(
    readonly file: string,
    private current: RollbackJournal,
  ) {}

  get journal(): RollbackJournal {
    return this.current;
  }

  static async create(file: string, journal: RollbackJournal): Promise<RollbackJournalFile> {
    await writeJournal(file, journal);
    return new RollbackJournalFile(file, journal);
  }

  static async open(file: string): Promise<RollbackJournalFile> {
    return new RollbackJournalFile(file, await readRollbackJournal(file));
  }

  async update(change: Partial<Omit<RollbackJournal, "kind" | "version">>): Promise<void> {
    const next = { ...this.current, ...change, updatedAt: new Date().toISOString() };
    if (!("doing" in change)) delete (next as { doing?: unknown }).doing;
    await writeJournal(this.file, next);
    this.current = next;
  }
}
