import os from "node:os";

/** Who holds a runbook lock: what a second operator needs to find the process and its owner. */
export interface LockHolder {
  /** The runbook command, e.g. `restore` or `restore --resume`. */
  readonly command: string;
  /** The runbook process's pid on `host`. */
  readonly pid: number;
  readonly since: Date;
  readonly user: string;
  readonly host: string;
  /** The host name was cut short to fit the server's 63-byte application_name. */
  readonly hostTruncated: boolean;
}

/** application_name prefix of a session holding a runbook lock; pg_stat_activity shows it to every role. */
export const HOLDER_PREFIX = "runbook-lock:";

/** PostgreSQL keeps the first NAMEDATALEN-1 bytes of application_name. */
const MAX_LABEL_BYTES = 63;
const TRUNCATED = "~";

export function currentHolder(command: string, now: Date = new Date()): LockHolder {
  return {
    command,
    pid: process.pid,
    since: now,
    user: os.userInfo().username,
    host: os.hostname(),
    hostTruncated: false,
  };
}

/**
 * `runbook-lock:<pid> <since, epoch seconds in base 36> <command> <user>@<host>`: words rather than JSON because
 * the server cuts application_name at 63 bytes and replaces any non-ASCII byte; the host is shortened (and
 * marked with `~`) when the whole would not fit, so every other field always survives.
 */
export function holderLabel(holder: LockHolder): string {
  const ascii = (text: string): string => text.replace(/[^\x21-\x7e]/g, "_");
  const command = holder.command
    .split(/\s+/)
    .filter((word) => word !== "")
    .map(ascii)
    .join(" ");
  const head = `${HOLDER_PREFIX}${holder.pid} ${Math.floor(holder.since.getTime() / 1000).toString(36)} ${command} ${ascii(holder.user)}@`;
  const host = ascii(holder.host);
  const room = MAX_LABEL_BYTES - head.length;
  return room >= host.length ? head + host : head + host.slice(0, Math.max(0, room - 1)) + TRUNCATED;
}

/** The holder a label names; undefined for any other application_name. */
export function parseHolderLabel(label: string): LockHolder | undefined {
  if (!label.startsWith(HOLDER_PREFIX)) return undefined;
  const words = label.slice(HOLDER_PREFIX.length).split(" ");
  if (words.length < 4 || !/^\d+$/.test(words[0]) || !/^[0-9a-z]+$/.test(words[1])) return undefined;
  const who = words[words.length - 1];
  const at = who.lastIndexOf("@");
  if (at < 0) return undefined;
  const host = who.slice(at + 1);
  const hostTruncated = host.endsWith(TRUNCATED);
  return {
    pid: Number(words[0]),
    since: new Date(parseInt(words[1], 36) * 1000),
    command: words.slice(2, -1).join(" "),
    user: who.slice(0, at),
    host: hostTruncated ? host.slice(0, -TRUNCATED.length) : host,
    hostTruncated,
  };
}

/** `runbook restore by ops@db-admin-1 (pid 4242) since 2024-05-01T12:00:00Z` */
export function describeHolder(holder: LockHolder): string {
  const since = holder.since.toISOString().replace(/\.\d+Z$/, "Z");
  const host = holder.hostTruncated ? `${holder.host}…` : holder.host;
  return `runbook ${holder.command} by ${holder.user}@${host} (pid ${holder.pid}) since ${since}`;
}

/** Whether the holder's label names this machine (a shortened host name matches on what is left of it). */
export function holderIsOnThisHost(holder: LockHolder, hostname: string = os.hostname()): boolean {
  return holder.hostTruncated ? hostname.startsWith(holder.host) : hostname === holder.host;
}
