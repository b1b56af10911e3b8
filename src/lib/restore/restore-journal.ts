import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../errors";
import { writeJsonDurably } from "../snapshot/durable-fs";

/**
 * The steps of a restore, in order; the journal records the last one completed. Everything up to
 * scratch-restored leaves the target as it was; target-renamed to scratch-renamed is the window in which no
 * database carries the target's name.
 */
export const RESTORE_STEPS = [
  "planned", // the journal exists and names everything below; nothing changed yet
  "pre-restore-snapshot-taken",
  "scratch-created",
  "scratch-restored", // pg_restore finished and the target's GRANTs and settings were copied
  "target-closed", // the target refuses new connections
  "target-renamed", // target → kept
  "scratch-renamed", // scratch → target
  "kept-reopened", // the kept database accepts connections again: the restore is complete
] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

export type RestoreStatus = "running" | "completed" | "aborted";

const JOURNAL_KIND = "runbook-restore-journal";
const JOURNAL_SUFFIX = ".restore-journal.json";

export interface RestoreJournal {
  readonly kind: typeof JOURNAL_KIND;
  readonly version: 1;
  readonly status: RestoreStatus;
  /** The last step completed. */
  readonly step: RestoreStep;
  /** The step (or the abort) under way when the journal was last written; it may or may not have happened. */
  readonly doing?: RestoreStep | "abort";
  /** Where the swap stood when an abort began: an abort that dies halfway must finish the same way. */
  readonly abortedFrom?: RestoreStep;
  readonly server: { readonly host: string; readonly port: number };
  /** The application's database, named by PG_DSN. */
  readonly database: string;
  readonly scratch: string;
  readonly kept: string;
  /** The snapshot being restored, and its sha256 as checked before the restore began. */
  readonly snapshot: string;
  readonly snapshotSha256: string;
  readonly preRestoreDir: string;
  readonly preRestoreName: string;
  /** The snapshot of the target taken before anything changed; set once taken. */
  readonly preRestoreSnapshot?: string;
  /** Refusals --force overrode when the restore began. */
  readonly forced: string[];
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly startedBy: { readonly user: string; readonly host: string; readonly pid: number };
}

export function journalPath(preRestoreDir: string, preRestoreName: string): string {
  return path.join(preRestoreDir, `${preRestoreName}${JOURNAL_SUFFIX}`);
}

export function stepIndex(step: RestoreStep): number {
  return RESTORE_STEPS.indexOf(step);
}

export function isFinished(journal: RestoreJournal): boolean {
  return journal.status !== "running";
}

/** Who started the restore, for the journal. */
export function startedBy(): RestoreJournal["startedBy"] {
  return { user: os.userInfo().username, host: os.hostname(), pid: process.pid };
}

/**
 * Writes the journal atomically: a temporary file, flushed, renamed over the journal, and the directory
 * flushed, so that a crash leaves either the previous version or this one, never a torn file.
 */
export async function writeJournal(file: string, journal: RestoreJournal | object): Promise<void> {
  await writeJsonDurably(file, journal);
}

/** Reads a journal; a missing or foreign file is a UsageError naming it. */
export async function readJournal(file: string): Promise<RestoreJournal> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read the restore journal ${file}: ${(err as Error).message}`);
  }
  let parsed: Partial<RestoreJournal>;
  try {
    parsed = JSON.parse(text) as Partial<RestoreJournal>;
  } catch (err) {
    throw new UsageError(`${file} is not a restore journal: ${(err as Error).message}`);
  }
  if (parsed.kind !== JOURNAL_KIND || parsed.version !== 1 || !RESTORE_STEPS.includes(parsed.step as RestoreStep)) {
    throw new UsageError(`${file} is not a restore journal of this runbook (kind ${JOURNAL_KIND}, version 1)`);
  }
  return parsed as RestoreJournal;
}

export interface FoundJournal {
  readonly file: string;
  readonly journal: RestoreJournal;
}

/** The restore journals in a directory for one database of one server, oldest first. */
export async function journalsFor(
  dir: string,
  server: RestoreJournal["server"],
  database: string,
): Promise<FoundJournal[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const found: FoundJournal[] = [];
  for (const entry of entries.filter((e) => e.endsWith(JOURNAL_SUFFIX) && !e.startsWith("."))) {
    const file = path.join(dir, entry);
    const journal = await readJournal(file).catch(() => undefined);
    if (
      journal !== undefined &&
      journal.database === database &&
      journal.server.host === server.host &&
      journal.server.port === server.port
    ) {
      found.push({ file, journal });
    }
  }
  return found.sort((a, b) => a.journal.startedAt.localeCompare(b.journal.startedAt));
}

/** Keeps the journal on disk in step with the restore it records. */
export class JournalFile {
  constructor(
    readonly file: string,
    private current: RestoreJournal,
  ) {}

  get journal(): RestoreJournal {
    return this.current;
  }

  static async create(file: string, journal: RestoreJournal): Promise<JournalFile> {
    await writeJournal(file, journal);
    return new JournalFile(file, journal);
  }

  async update(change: Partial<Omit<RestoreJournal, "kind" | "version">>): Promise<void> {
    const next = { ...this.current, ...change, updatedAt: new Date().toISOString() };
    if (!("doing" in change)) delete (next as { doing?: unknown }).doing;
    await writeJournal(this.file, next);
    this.current = next;
  }
}
