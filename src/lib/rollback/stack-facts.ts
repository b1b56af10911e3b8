import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { buildHistory, HistoryEntry } from "./history";
import { readReleaseRevisions, ReleaseRevisions } from "./release-revisions";
import { readSnapshots, withStoredSnapshots } from "./snapshot-records";
import { configValue, PlainConfig } from "./stack-config";
import { StackStore, stackStore } from "./stack-store";
import { openStack } from "./stack-workspace";
import { withPulumiEnvironment } from "./pulumi-environment";
import { numberUpdates } from "./update-records";

export interface StackFacts {
  readonly stack: Stack;
  readonly config: PlainConfig;
  readonly history: HistoryEntry[];
  readonly snapshotDir: string;
  /** The stack's snapshotStore: history lists it, restore and rollback download from it. */
  readonly store?: StackStore;
  /** Manifests in the store that could not be read. */
  readonly storeProblems?: string[];
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
    const [history, allConfig] = await Promise.all([everyUpdate(opened), opened.getAllConfig()]);
    return { stack: opened, updates: history, config: allConfig };
  });
  const workDir = stack.workspace.workDir;
  const snapshotDir = path.resolve(workDir, configValue(config, "snapshotDir") ?? path.join("snapshots", stackName));
  const local = await readSnapshots(snapshotDir, stackName);
  const store = stackStore(config, env, workDir);
  const { records: snapshots, problems: storeProblems } =
    store === undefined
      ? { records: local, problems: [] }
      : await withStoredSnapshots(local, snapshotDir, stackName, store);
  const { revisions, clusterProblem }: ReleaseRevisions = opts.cluster ? await readReleaseRevisions(config, env) : {};
  const history = buildHistory(numberUpdates(updates), snapshots, revisions);
  return {
    stack,
    config,
    history,
    snapshotDir,
    ...(store === undefined ? {} : { store, storeProblems }),
    ...(clusterProblem ? { clusterProblem } : {}),
  };
}

/** Updates asked for per page: `pulumi stack history` returns only the newest 10 unless a page size is given. */
const HISTORY_PAGE = 500;

/**
 * Every update of the stack, all pages. Without a page size the CLI answers with the newest 10 only, and the
 * file backend records no version numbers: numbering a cut list would shift every version (version 1 would
 * be the 11th-newest update).
 */
async function everyUpdate(stack: Stack): Promise<Awaited<ReturnType<Stack["history"]>>> {
  const all: Awaited<ReturnType<Stack["history"]>> = [];
  for (let page = 1; ; page++) {
    const batch = await stack.history(HISTORY_PAGE, page, false);
    all.push(...batch);
    if (batch.length < HISTORY_PAGE) return all;
  }
}
