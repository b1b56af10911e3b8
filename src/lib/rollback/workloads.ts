import { spawn } from "node:child_process";
import { childEnvironment } from "../child-env";
import { OperationFailed } from "../errors";
import { instanceSelector } from "../kube/target";

/** Where the release runs. */
export interface ReleaseLocation {
  readonly release: string;
  readonly namespace: string;
  readonly context?: string;
}

/** One of the release's workloads and the replicas it ran before the rollback scaled it to zero. */
export interface WorkloadReplicas {
  /** `deployment/alexandria-ee-api`, as kubectl names it. */
  readonly name: string;
  readonly replicas: number;
}

/** The annotation on each workload that records, in the cluster, the replicas it had before the rollback. */
export const REPLICAS_ANNOTATION = "release-runbook/replicas-before-rollback";

function kubectl(where: ReleaseLocation, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const full = [...(where.context === undefined ? [] : ["--context", where.context]), "-n", where.namespace, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn("kubectl", full, {
      env: childEnvironment(env, { inherit: ["KUBECONFIG"] }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => reject(new OperationFailed(`kubectl ${args[0]}: ${e.message} (is kubectl on PATH?)`)));
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new OperationFailed(`kubectl ${args.join(" ")}: ${err.trim()}`)),
    );
  });
}

interface WorkloadList {
  items: {
    kind: string;
    metadata: { name: string; annotations?: Record<string, string> };
    spec?: { replicas?: number };
  }[];
}

/** The release's Deployments and StatefulSets with their replicas now and any count the cluster recorded. */
export async function readWorkloads(
  where: ReleaseLocation,
  env: NodeJS.ProcessEnv,
): Promise<{ name: string; replicas: number; recorded?: number }[]> {
  const list = JSON.parse(
    await kubectl(where, ["get", "deployments,statefulsets", "-l", instanceSelector(where.release), "-o", "json"], env),
  ) as WorkloadList;
  return list.items.map((i) => {
    const recorded = i.metadata.annotations?.[REPLICAS_ANNOTATION];
    return {
      name: `${i.kind.toLowerCase()}/${i.metadata.name}`,
      replicas: i.spec?.replicas ?? 1,
      ...(recorded === undefined ? {} : { recorded: Number(recorded) }),
    };
  });
}

/**
 * The replicas to record before scaling down: what the cluster already recorded wins (a resumed rollback finds
 * the workloads at zero), else what runs now.
 */
export async function replicasToRecord(where: ReleaseLocation, env: NodeJS.ProcessEnv): Promise<WorkloadReplicas[]> {
  return (await readWorkloads(where, env)).map((w) => ({ name: w.name, replicas: w.recorded ?? w.replicas }));
}

/** Records each workload's replicas in an annotation, then scales it to zero: no writer, no migration. */
export async function scaleToZero(
  where: ReleaseLocation,
  workloads: readonly WorkloadReplicas[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  for (const w of workloads) {
    await kubectl(where, ["annotate", w.name, `${REPLICAS_ANNOTATION}=${w.replicas}`, "--overwrite"], env);
    await kubectl(where, ["scale", w.name, "--replicas=0"], env);
  }
}

/**
 * Puts each workload back at its recorded replicas where it is still below them (Helm's three-way merge
 * restores the replicas a chart sets; this covers the rest), and removes the annotation.
 */
export async function scaleBack(
  where: ReleaseLocation,
  workloads: readonly WorkloadReplicas[],
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const now = new Map((await readWorkloads(where, env)).map((w) => [w.name, w]));
  const done: string[] = [];
  for (const w of workloads) {
    const live = now.get(w.name);
    if (live === undefined) continue; // the target version has no such workload
    if (live.replicas < w.replicas) {
      await kubectl(where, ["scale", w.name, `--replicas=${w.replicas}`], env);
      done.push(`${w.name} scaled back to ${w.replicas}`);
    }
    if (live.recorded !== undefined) await kubectl(where, ["annotate", w.name, `${REPLICAS_ANNOTATION}-`], env);
  }
  return done;
}
