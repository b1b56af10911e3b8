import { checkPodsHealthyBy, KubeTarget, PodsHealth } from "../kube";
import { CheckResult, fail, pass, skip } from "../check";
import { diagnoseCommand } from "../diagnose/diagnose-command";

/**
 * The guide's `kubectl get pods -n $NAMESPACE` before an upgrade: every pod of the namespace, not only the
 * release's (its databases, Keycloak, OpenFGA, Infisical may be installed apart), Running and Ready.
 */
export async function checkNamespacePods(
  target: KubeTarget,
  release: string,
  env: NodeJS.ProcessEnv,
): Promise<CheckResult> {
  const name = "namespace-pods";
  let health: PodsHealth;
  try {
    health = await checkPodsHealthyBy(target, env);
  } catch (err) {
    return fail(name, (err as Error).message);
  }
  if (health.podNames.length === 0) return skip(name, `namespace ${target.namespace} has no pods yet`);
  if (health.healthy)
    return pass(name, `every pod of namespace ${target.namespace} (${health.podNames.length}) Running and Ready`);
  return fail(
    name,
    `${describeUnhealthy(health)} in namespace ${target.namespace}: fix them before upgrading, or an upgrade on top ` +
      `hides why (\`${diagnoseCommand(release, target.namespace, target.context)}\` gathers their previous logs and events)`,
  );
}

/**
 * The guide's `kubectl get pods -l app.kubernetes.io/component=database`: the infrastructure the services'
 * init containers wait for (PostgreSQL, Redis) is healthy. Skipped, saying so, when no pod carries the label:
 * the databases run outside the namespace (the database check reaches PostgreSQL itself).
 */
export async function checkInfrastructurePods(
  target: KubeTarget,
  selector: string,
  env: NodeJS.ProcessEnv,
): Promise<CheckResult> {
  const name = "infrastructure-pods";
  let health: PodsHealth;
  try {
    health = await checkPodsHealthyBy(target, env, selector);
  } catch (err) {
    return fail(name, (err as Error).message);
  }
  if (health.podNames.length === 0) {
    return skip(
      name,
      `no pods labelled ${selector} in namespace ${target.namespace}: the databases run elsewhere (the database check reaches PostgreSQL)`,
    );
  }
  if (health.healthy) {
    return pass(
      name,
      `${health.podNames.length} pod(s) labelled ${selector} Running and Ready (${health.podNames.join(", ")})`,
    );
  }
  return fail(
    name,
    `${describeUnhealthy(health)} labelled ${selector}: the services' init containers wait for these, so the upgrade ` +
      `would hang until Helm's timeout; make them healthy first (kubectl describe pod -n ${target.namespace} POD)`,
  );
}

function describeUnhealthy(health: PodsHealth): string {
  return `${health.unhealthy.length} of ${health.podNames.length} pod(s) unhealthy (${health.unhealthy.map((p) => `${p.name} ${p.reason}`).join("; ")})`;
}
