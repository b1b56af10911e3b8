import { createHash } from "node:crypto";

/**
 * The first key of every runbook advisory lock ("RUNB" read as a 32-bit integer). PostgreSQL's two-key form
 * keeps these apart from the single bigint keys most applications use, so an application's own advisory locks
 * on the same server never block a runbook operation or the other way round.
 */
export const LOCK_NAMESPACE = 0x52554e42;

export interface LockKey {
  readonly namespace: number;
  /** The database's name hashed into 31 bits: non-negative, so pg_locks.objid shows the same number. */
  readonly key: number;
}

/** The advisory lock key of the operations on one database. */
export function lockKeyFor(database: string): LockKey {
  const digest = createHash("sha256").update(database, "utf8").digest();
  return { namespace: LOCK_NAMESPACE, key: digest.readUInt32BE(0) & 0x7fffffff };
}
