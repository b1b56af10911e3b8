import { execFile } from "node:child_process";

/** Where kubectl points: the namespace, and optionally a kubeconfig context. KUBECONFIG comes from the environment. */
export interface KubeTarget {
  readonly namespace: string;
  /** Passed as --context; the kubeconfig's current context when absent. */
  readonly context?: string;
}

/** kubectl ran and failed, or could not run. The message quotes kubectl's stderr, never its stdout (which can hold Secret data). */
export class KubectlError extends Error {
  constructor(
    message: string,
    /** True when the API server said the object does not exist. */
    readonly notFound: boolean,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Requests to the API server time out well inside the process deadline so kubectl reports why. */
const REQUEST_TIMEOUT = "30s";
const PROCESS_TIMEOUT_MS = 60_000;
/** Helm's release Secrets carry the whole gzipped chart per revision; a long history is several MB. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * Runs kubectl with an argv array (no shell) in the target namespace and returns its stdout.
 * `env` is the child's whole environment: PATH finds kubectl, KUBECONFIG selects the cluster.
 */
export function kubectl(args: readonly string[], target: KubeTarget, env: NodeJS.ProcessEnv): Promise<string> {
  const argv = [
    `--namespace=${target.namespace}`,
    ...(target.context === undefined ? [] : [`--context=${target.context}`]),
    `--request-timeout=${REQUEST_TIMEOUT}`,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      "kubectl",
      argv,
      { env, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES, timeout: PROCESS_TIMEOUT_MS, killSignal: "SIGKILL" },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve(stdout);
          return;
        }
        const command = `kubectl ${args.join(" ")}`;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          reject(
            new KubectlError(
              "kubectl is not on PATH: install kubectl (or run preflight with --skip-cluster)",
              false,
              "",
            ),
          );
        } else if (err.killed) {
          reject(new KubectlError(`${command} did not finish within ${PROCESS_TIMEOUT_MS / 1000}s`, false, stderr));
        } else {
          const reason = lastMeaningfulLine(stderr) ?? `exit code ${String(err.code)}`;
          reject(
            new KubectlError(
              `${command} failed in namespace ${target.namespace}: ${reason}`,
              /\bNotFound\b|not found/.test(stderr),
              stderr,
            ),
          );
        }
      },
    );
  });
}

/** kubectl prints client-go's retry noise ("Unhandled Error", memcache.go) before the line that says what went wrong. */
function lastMeaningfulLine(stderr: string): string | undefined {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^[EIW]\d{4} /.test(l));
  return lines[lines.length - 1];
}

/** `kubectl get ... -o json`, parsed. */
export async function kubectlJson<T>(args: readonly string[], target: KubeTarget, env: NodeJS.ProcessEnv): Promise<T> {
  const stdout = await kubectl([...args, "-o", "json"], target, env);
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new KubectlError(`kubectl ${args.join(" ")} -o json did not print JSON`, false, "");
  }
}

/** The label Helm charts put on every object of a release; the runbook selects pods with it. */
export function instanceSelector(release: string): string {
  return `app.kubernetes.io/instance=${release}`;
}
