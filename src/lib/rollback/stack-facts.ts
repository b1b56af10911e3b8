import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { readHelmHistory } from "../kube/helm-release";
import { isManifest, readManifest } from "../snapshot/manifest";
import { withPulumiEnvironment } from "./pulumi-environment";
import { buildHistory, HistoryEntry, ReleaseRevisionRecord, SnapshotRecord, UpdateRecord } from "./history";
import { PROJECT } from "./targets";

/**
 * The project directory: the current directory when it holds Pulumi.yaml (operators run the runbook from
 * their checkout, which holds their stack files), else the nearest one above this module.
 */
export function projectDir(): string {
  if (existsSync(path.join(process.cwd(), "Pulumi.yaml"))) return process.cwd();
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    dir = path.dirname(dir);
    if (existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
  }
  throw new Error(`cannot find Pulumi.yaml above ${__dirname}; run the runbook from its project checkout`);
}

export async function openStack(stackName: string, workDir = projectDir()): Promise<Stack> {
  return LocalWorkspace.selectStack({ stackName, workDir });
}

export type PlainConfig = Record<string, { value: string; secret?: boolean }>;

/** `release-runbook:<key>` of a config map. */
export function configValue(config: PlainConfig, key: string): string | undefined {
  return config[`${PROJECT}:${key}`]?.value;
}

/** Every snapshot manifest in the stack's snapshot directory, taken for this stack. */
export async function readSnapshots(dir: string, stackName: string): Promise<SnapshotRecord[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out: SnapshotRecord[] = [];
  for (const entry of entries.filter((e) => e.endsWith(".manifest.json")).sort()) {
    const manifestPath = path.join(dir, entry);
    const manifest = await readManifest(manifestPath);
    if (!isManifest(manifest)) continue;
    const forStack = manifest.context?.stack;
    if (forStack !== undefined && forStack !== stackName) continue;
    out.push({
      name: manifest.name,
      path: manifest.path,
      manifestPath,
      sha256: manifest.sha256,
      createdAt: manifest.createdAt,
      schemaVersion: manifest.schemaVersion,
      ...(manifest.context === undefined ? {} : { context: manifest.context }),
      ...(manifest.companions === undefined
        ? {}
        : { companions: manifest.companions.map((c) => ({ kind: c.kind, path: c.path })) }),
    });
  }
  return out;
}

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

export interface StackFacts {
  readonly stack: Stack;
  readonly config: PlainConfig;
  readonly history: HistoryEntry[];
  readonly snapshotDir: string;
  /** Why release revisions are missing from the history, when the cluster could not be read. */
  readonly clusterProblem?: string;
}

/** Reads a stack's history, config, snapshots and (unless told not to) its release's revisions. */
export async function readStackFacts(
  stackName: string,
  env: NodeJS.ProcessEnv,
  opts: { cluster: boolean },
): Promise<StackFacts> {
  const { stack, updates, config } = await withPulumiEnvironment(env, async () => {
    const opened = await openStack(stackName);
    const [history, allConfig] = await Promise.all([
      opened.history(undefined, undefined, false),
      opened.getAllConfig(),
    ]);
    return { stack: opened, updates: history, config: allConfig };
  });
  const workDir = stack.workspace.workDir;
  const snapshotDir = path.resolve(workDir, configValue(config, "snapshotDir") ?? path.join("snapshots", stackName));
  const snapshots = await readSnapshots(snapshotDir, stackName);
  let revisions: ReleaseRevisionRecord[] | undefined;
  let clusterProblem: string | undefined;
  const namespace = configValue(config, "namespace");
  const release = configValue(config, "releaseName") ?? configValue(config, "application") ?? "alexandria-ee";
  if (opts.cluster && namespace !== undefined) {
    const context = configValue(config, "kubeContext");
    try {
      revisions = await readHelmHistory(release, { namespace, ...(context ? { context } : {}) }, env);
    } catch (err) {
      clusterProblem = (err as Error).message;
    }
  }
  const history = buildHistory(numberUpdates(updates), snapshots, revisions);
  return { stack, config, history, snapshotDir, ...(clusterProblem ? { clusterProblem } : {}) };
}
