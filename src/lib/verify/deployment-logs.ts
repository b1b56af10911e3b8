import { ComponentDeployment, ContainerLogs, findComponentDeployment, KubeTarget, readSelectedPodLogs } from "../kube";
import { redactSecrets } from "../redact";
import { CheckResult, fail, skip } from "../check";
import { judgeLogs } from "./api-logs";
import { MIGRATION_ERROR_PATTERNS } from "./migration-errors";

export interface DeploymentLogsSource {
  readonly target: KubeTarget;
  readonly release: string;
  /** The component whose Deployment is read: governance, assets, utils. */
  readonly component: string;
  /** How many lines from the end of each container's log. */
  readonly lines: number;
}

/** The name of the check of `component`'s logs: `governance-logs`. */
export function deploymentLogsCheckName(component: string): string {
  return `${component}-logs`;
}

/**
 * The guide's "check pod logs for migration errors" (`kubectl logs deploy/em-runtime-governance`): the last
 * lines of every container of the component's Deployment's pods match none of MIGRATION_ERROR_PATTERNS.
 * Skipped, saying why, when the release has no such Deployment or it has no pods.
 */
export async function checkDeploymentLogs(source: DeploymentLogsSource, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const { component, release, target } = source;
  const name = deploymentLogsCheckName(component);
  let deployment: ComponentDeployment | undefined;
  let logs: ContainerLogs;
  try {
    deployment = await findComponentDeployment(release, component, target, env);
    if (deployment === undefined) {
      return skip(
        name,
        `release ${release} in namespace ${target.namespace} has no Deployment of ${component} ` +
          `(${release}-${component}): no ${component} logs to read`,
      );
    }
    logs = await readSelectedPodLogs(deployment.podSelector, target, env, source.lines);
  } catch (err) {
    return fail(name, `could not read the ${component} logs: ${redactSecrets((err as Error).message, env)}`);
  }
  if (logs.sources.length === 0) {
    return skip(name, `Deployment ${deployment.name} has no running pods (${deployment.podSelector}): no logs to read`);
  }
  return judgeLogs(name, component, logs, MIGRATION_ERROR_PATTERNS, "migration errors");
}
