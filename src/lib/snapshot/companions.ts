import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { OperationFailed } from "../errors";
import { exportSecrets } from "../backup/kube-secrets";
import { dumpRedis } from "../redis/rdb-dump";
import { RedisSource, describeRedisSource } from "../redis/source";
import type { KubeTarget } from "../kube";
import { digestSnapshot } from "./digest";
import { FILE_MODE, exists, removeQuietly } from "./durable-fs";
import { COMPANION_KINDS, CompanionKind, SnapshotLayout } from "./layout";

/**
 * Where a snapshot keeps its companions: beside a single-database snapshot (its SnapshotLayout, renamed into
 * place before the dump's rename commits), or inside a server snapshot's directory (committed by its one rename).
 */
export interface CompanionPlacement {
  /** The snapshot's name and manifest, named when a reused snapshot lacks what is asked for now. */
  readonly name: string;
  readonly manifestPath: string;
  /** Where the companion lives once the snapshot is committed (recorded in the manifest). */
  readonly companionPath: (kind: CompanionKind) => string;
  /** Where it is written while the snapshot is being taken. */
  readonly companionPartialPath: (kind: CompanionKind) => string;
}

/** What else an upgrade must be able to put back besides the database (em-runtime: its Secrets, Redis). */
export interface CompanionRequest {
  /** Kubernetes Secrets saved as one List document that `kubectl apply -f` restores. */
  readonly kubeSecrets?: { readonly names: readonly string[]; readonly target: KubeTarget };
  /** A Redis server whose dataset is saved as an RDB file. */
  readonly redis?: RedisSource;
}

/** One companion file as the manifest records it. */
export interface CompanionBackup {
  readonly kind: CompanionKind;
  /**
   * Absolute path of the file when it was taken: DIR/NAME.secrets.json and DIR/NAME.redis.rdb beside a
   * single-database snapshot, DIR/NAME/secrets.json and DIR/NAME/redis.rdb inside a server snapshot.
   */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  /** kubernetes-secrets: the namespace and the Secrets in the file. */
  readonly namespace?: string;
  readonly secrets?: string[];
  /** redis: where it was copied from (never the password). */
  readonly source?: string;
}

/** A companion written under its partial name, waiting for the snapshot's commit. */
export interface PendingCompanion {
  readonly backup: CompanionBackup;
  readonly partialPath: string;
}

export function requestedKinds(request: CompanionRequest | undefined): CompanionKind[] {
  const kinds: CompanionKind[] = [];
  if (request?.kubeSecrets !== undefined && request.kubeSecrets.names.length > 0) kinds.push("kubernetes-secrets");
  if (request?.redis !== undefined) kinds.push("redis");
  return kinds;
}

/**
 * Writes each requested companion under its partial name (mode 0600). Taken before the database dump, so a
 * missing Secret or an unreachable Redis fails the snapshot before a long pg_dump; on failure the caller
 * removes every partial.
 */
export async function takeCompanions(
  request: CompanionRequest | undefined,
  layout: CompanionPlacement,
  parentEnv: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<PendingCompanion[]> {
  const pending: PendingCompanion[] = [];
  const secrets = request?.kubeSecrets;
  if (secrets !== undefined && secrets.names.length > 0) {
    const partialPath = layout.companionPartialPath("kubernetes-secrets");
    const text = await exportSecrets(secrets.names, secrets.target, parentEnv);
    await writePrivateFile(partialPath, text);
    pending.push({
      partialPath,
      backup: {
        kind: "kubernetes-secrets",
        path: layout.companionPath("kubernetes-secrets"),
        sha256: createHash("sha256").update(text).digest("hex"),
        bytes: Buffer.byteLength(text),
        namespace: secrets.target.namespace,
        secrets: [...secrets.names],
      },
    });
  }
  if (request?.redis !== undefined) {
    const partialPath = layout.companionPartialPath("redis");
    await dumpRedis(request.redis, partialPath, parentEnv, signal);
    await fs.chmod(partialPath, FILE_MODE);
    const digest = await digestSnapshot(partialPath);
    pending.push({
      partialPath,
      backup: {
        kind: "redis",
        path: layout.companionPath("redis"),
        sha256: digest.sha256,
        bytes: digest.bytes,
        source: describeRedisSource(request.redis),
      },
    });
  }
  return pending;
}

async function writePrivateFile(file: string, text: string): Promise<void> {
  const handle = await fs.open(file, "wx", FILE_MODE);
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Companion files of this name with no snapshot next to them: left by a run that died between renaming its
 * companions and its dump (the dump's rename is the commit point). They belong to no snapshot and go.
 */
export async function removeOrphanedCompanions(layout: SnapshotLayout): Promise<void> {
  for (const kind of COMPANION_KINDS) await removeQuietly(layout.companionPath(kind));
}

/** A reused snapshot must hold the companions asked for now, each the size its manifest records. */
export async function checkCompanionsOf(
  recorded: readonly CompanionBackup[] | undefined,
  request: CompanionRequest | undefined,
  layout: Omit<CompanionPlacement, "companionPartialPath">,
): Promise<void> {
  const name = layout.name;
  for (const kind of requestedKinds(request)) {
    const backup = recorded?.find((c) => c.kind === kind);
    if (backup === undefined) {
      throw new OperationFailed(
        `snapshot ${name} already exists but was taken without the ${kind} backup asked for now: move ` +
          `${layout.manifestPath} and its snapshot away (a new one is then taken) or choose another --name`,
      );
    }
    if (kind === "kubernetes-secrets") {
      const missing = (request?.kubeSecrets?.names ?? []).filter((n) => !(backup.secrets ?? []).includes(n));
      if (missing.length > 0) {
        throw new OperationFailed(
          `snapshot ${name} already exists but its Secrets backup lacks ${missing.join(", ")}: move ` +
            `${layout.manifestPath} and its snapshot away (a new one is then taken) or choose another --name`,
        );
      }
    }
  }
  for (const backup of recorded ?? []) {
    const file = layout.companionPath(backup.kind);
    const bytes = (await exists(file)) ? (await fs.stat(file)).size : undefined;
    if (bytes !== backup.bytes) {
      throw new OperationFailed(
        `snapshot ${name}'s ${backup.kind} backup ${file} is ${bytes === undefined ? "missing" : `${bytes} bytes`}, ` +
          `its manifest records ${backup.bytes} bytes: move the snapshot and its manifest away or choose another --name`,
      );
    }
  }
}

/** One companion as a line of the snapshot's report: what was saved, where, its size and sha256. */
export function describeCompanion(c: CompanionBackup): string {
  const what =
    c.kind === "kubernetes-secrets" ? `Secrets ${(c.secrets ?? []).join(", ")} of ${c.namespace}` : `Redis ${c.source}`;
  return `${what} → ${c.path} (${c.bytes} bytes, sha256 ${c.sha256})`;
}

/**
 * How to put the companions back by hand. `runbook restore` restores the database only: Secrets and Redis
 * are the operator's call (a Secret may have been rotated on purpose since), so it names the commands.
 */
export function companionRestoreSteps(companions: readonly CompanionBackup[] | undefined): string[] {
  return (companions ?? []).map((c) =>
    c.kind === "kubernetes-secrets"
      ? `Secrets ${(c.secrets ?? []).join(", ")} were saved with this snapshot; to put them back: ` +
        `kubectl apply -n ${c.namespace ?? "<namespace>"} -f ${c.path}`
      : `Redis (${c.source ?? "?"}) was saved with this snapshot as ${c.path}; to put it back, stop Redis, ` +
        `replace its dump.rdb with this file (appendonly off) and start it`,
  );
}
