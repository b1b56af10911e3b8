/**
 * `helm rollback`, the one Helm operation the runbook carries out itself (after a failed verification whose
 * schema did not move). Helm writes the new revision and its release record exactly as an operator's
 * `helm rollback` would; the argv holds names and numbers only, the environment only what helm needs.
 */
import { execFile } from "node:child_process";
import { childEnvironment } from "../child-env";
import { OperationFailed } from "../errors";

export interface HelmRollback {
  readonly release: string;
  readonly namespace: string;
  readonly context?: string;
  readonly revision: number;
  readonly timeoutSeconds: number;
}

/** What helm needs: the cluster (KUBECONFIG) and its own settings (HELM_*), nothing of the runbook's. */
const HELM_NEEDS = { inherit: ["KUBECONFIG"], inheritPrefixes: ["HELM_"] } as const;

export function helmRollbackArgv(r: HelmRollback): string[] {
  return [
    "rollback",
    r.release,
    String(r.revision),
    "--namespace",
    r.namespace,
    ...(r.context === undefined ? [] : ["--kube-context", r.context]),
    "--wait",
    "--timeout",
    `${r.timeoutSeconds}s`,
  ];
}

export function helmRollback(r: HelmRollback, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "helm",
      helmRollbackArgv(r),
      { env: childEnvironment(env, HELM_NEEDS), timeout: (r.timeoutSeconds + 60) * 1000, encoding: "utf8" },
      (err, _stdout, stderr) => {
        if (err === null) return resolve();
        const why =
          (err as NodeJS.ErrnoException).code === "ENOENT"
            ? "helm is not on PATH (install helm 3)"
            : (stderr.trim().split("\n").pop() ?? `exit code ${String(err.code)}`);
        reject(new OperationFailed(`helm rollback ${r.release} ${r.revision} -n ${r.namespace} failed: ${why}`));
      },
    );
  });
}
