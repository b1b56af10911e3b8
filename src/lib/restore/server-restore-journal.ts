import fs from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors";
import { RestoreStatus, startedBy, writeJournal } from "./restore-journal";

/**
 * Where one database of a server restore stands. Its own restore has its own journal (restore-journal.ts),
 * found again by database name in the same directory; this records only what the server restore adds.
 */
export interface ServerRestoreDatabase {
  readonly name: string;
  /** Whether the database was on the server when the restore was planned. */
  readonly existed: boolean;
  /** "created": a missing database was created empty from the snapshot's properties, then restored over. */
  readonly state: "pending" | "created" | "restoring" | "restored";
  /** The database's own restore journal, once its restore has begun. */
  readonly journal?: string;
  readonly keptDatabase?: string;
  readonly preRestoreSnapshot?: string;
}

/** The steps of a server restore beyond its databases'; recorded after they have happened. */
export const SERVER_RESTORE_STEPS = ["planned", "roles-created", "databases-restored"] as const;
export type ServerRestoreStep = (typeof SERVER_RESTORE_STEPS)[number];

const KIND = "runbook-server-restore-journal";
const SUFFIX = ".server-restore-journal.json";

export interface ServerRestoreJournal {
  readonly kind: typeof KIND;
  readonly version: 1;
  readonly status: RestoreStatus;
  readonly step: ServerRestoreStep;
  readonly server: { readonly host: string; readonly port: number };
  /** The server snapshot's directory and its sha256. */
  readonly snapshot: string;
  readonly snapshotSha256: string;
  /** Where the pre-restore snapshots and every journal go. */
  readonly preRestoreDir: string;
  /** Roles this restore created from the snapshot's globals. */
  readonly rolesCreated: string[];
  /** In the order they are restored. */
  readonly databases: ServerRestoreDatabase[];
  readonly forced: string[];
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly startedBy: { readonly user: string; readonly host: string; readonly pid: number };
}

/** `DIR/<snapshot name>-restore-<UTC time>.server-restore-journal.json` */
export function serverJournalPath(preRestoreDir: string, snapshotName: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
  return path.join(preRestoreDir, `${snapshotName}-restore-${stamp}${SUFFIX}`);
}

export function newServerJournal(
  fields: Omit<ServerRestoreJournal, "kind" | "version" | "status" | "step" | "startedAt" | "updatedAt" | "startedBy">,
): ServerRestoreJournal {
  const now = new Date().toISOString();
  return {
    kind: KIND,
    version: 1,
    status: "running",
    step: "planned",
    ...fields,
    startedAt: now,
    updatedAt: now,
    startedBy: startedBy(),
  };
}

/** Whether a file is a server restore's journal (rather than one database's), by its name. */
export function isServerJournalFile(file: string): boolean {
  return file.endsWith(SUFFIX);
}

export async function readServerJournal(file: string): Promise<ServerRestoreJournal> {
  let parsed: Partial<ServerRestoreJournal>;
  try {
    parsed = JSON.parse(await fs.readFile(file, "utf8")) as Partial<ServerRestoreJournal>;
  } catch (err) {
    throw new UsageError(`cannot read the server restore journal ${file}: ${(err as Error).message}`);
  }
  if (parsed.kind !== KIND || parsed.version !== 1 || !Array.isArray(parsed.databases)) {
    throw new UsageError(`${file} is not a server restore journal of this runbook (kind ${KIND}, version 1)`);
  }
  return parsed as ServerRestoreJournal;
}

/** The server restore journals in a directory for one server, oldest first. */
export async function serverJournalsIn(
  dir: string,
  server: ServerRestoreJournal["server"],
): Promise<{ file: string; journal: ServerRestoreJournal }[]> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  const found: { file: string; journal: ServerRestoreJournal }[] = [];
  for (const entry of entries.filter((e) => e.endsWith(SUFFIX) && !e.startsWith("."))) {
    const file = path.join(dir, entry);
    const journal = await readServerJournal(file).catch(() => undefined);
    if (journal !== undefined && journal.server.host === server.host && journal.server.port === server.port) {
      found.push({ file, journal });
    }
  }
  return found.sort((a, b) => a.journal.startedAt.localeCompare(b.journal.startedAt));
}

/**
 * Keeps a server restore's journal on disk in step with it (written atomically, as a database's journal).
 * Databases are restored two at a time, so updates are applied one after the other, each to the latest state.
 */
export class ServerJournalFile {
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private current: ServerRestoreJournal,
  ) {}

  get journal(): ServerRestoreJournal {
    return this.current;
  }

  static async create(file: string, journal: ServerRestoreJournal): Promise<ServerJournalFile> {
    await writeJournal(file, journal);
    return new ServerJournalFile(file, journal);
  }

  async update(change: Partial<Omit<ServerRestoreJournal, "kind" | "version">>): Promise<void> {
    await this.apply(() => change);
  }

  async updateDatabase(name: string, change: Partial<Omit<ServerRestoreDatabase, "name">>): Promise<void> {
    await this.apply((j) => ({ databases: j.databases.map((d) => (d.name === name ? { ...d, ...change } : d)) }));
  }

  private apply(changeOf: (j: ServerRestoreJournal) => Partial<ServerRestoreJournal>): Promise<void> {
    const write = this.writes.then(async () => {
      const next = { ...this.current, ...changeOf(this.current), updatedAt: new Date().toISOString() };
      await writeJournal(this.file, next);
      this.current = next;
    });
    this.writes = write.catch(() => undefined);
    return write;
  }
}
