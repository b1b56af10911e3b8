import { childEnvironment, NETWORK_ENV_VARS } from "../child-env";
import { LOCK_HANDOFF_ENV } from "../lock/handoff";

/**
 * What the pulumi CLI needs, and through it the program, its providers and the program's local commands:
 * its own settings (PULUMI_BACKEND_URL, PULUMI_ACCESS_TOKEN, PULUMI_CONFIG_PASSPHRASE, PULUMI_HOME...), the
 * cluster (KUBECONFIG), TLS trust and proxies, and the cloud credentials an object-storage backend or a
 * kubeconfig exec plugin (gke-gcloud-auth-plugin, aws eks get-token) reads. The program's own secrets (pgDsn,
 * registryPassword, redisUrl) come from the stack's encrypted config, never from the runbook's environment.
 */
const PULUMI_NEEDS = {
  // LOCK_HANDOFF_ENV: the pipeline's `runbook snapshot` works under the lock of the rollback that runs the up.
  inherit: ["KUBECONFIG", "NODE_EXTRA_CA_CERTS", LOCK_HANDOFF_ENV, ...NETWORK_ENV_VARS],
  inheritPrefixes: ["PULUMI_", "AWS_", "GOOGLE_", "CLOUDSDK_", "AZURE_"],
} as const;

export function pulumiEnvironment(parentEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return childEnvironment(parentEnv, PULUMI_NEEDS);
}

let depth = 0;
let saved: NodeJS.ProcessEnv | undefined;

/**
 * Runs Automation API calls with process.env holding only pulumiEnvironment(parentEnv). The Automation API
 * starts the pulumi CLI with process.env merged under the variables it is given (execa's extendEnv), so an
 * allowlist passed to it would add to the runbook's environment, not replace it. Calls may nest or overlap:
 * the first to enter saves process.env, the last to leave puts it back. `parentEnv` itself is never changed.
 */
export async function withPulumiEnvironment<T>(parentEnv: NodeJS.ProcessEnv, work: () => Promise<T>): Promise<T> {
  if (depth === 0) {
    saved = process.env;
    process.env = pulumiEnvironment(parentEnv);
  }
  depth++;
  try {
    return await work();
  } finally {
    depth--;
    if (depth === 0 && saved !== undefined) {
      process.env = saved;
      saved = undefined;
    }
  }
}
