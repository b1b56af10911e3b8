import { diagnoseCommand } from "../diagnose/diagnose-command";

/** Where to go when verification fails; printed with the failed checks. */
export interface WayBackContext {
  readonly release?: string;
  readonly namespace?: string;
  /** The kubeconfig context, when not the current one. */
  readonly context?: string;
  /** The revision `helm rollback` should return to, when it could be read from the cluster. */
  readonly previousRevision?: number;
}

export function wayBack(context: WayBackContext): string[] {
  const release = context.release ?? "<release>";
  const namespace = context.namespace ?? "<namespace>";
  const revision = context.previousRevision === undefined ? "<revision>" : String(context.previousRevision);
  return [
    `${diagnoseCommand(release, namespace, context.context)}  (why it failed: previous logs of crash-looping pods, the pods' ` +
      "events, init containers waiting on dependencies, Keycloak's logs)",
    "runbook rollback  (re-applies the previous stack version through preflight, snapshot and release)",
    "pulumi stack history  (lists the earlier upgrades and their target versions)",
    `helm rollback ${release} ${revision} -n ${namespace} --timeout 5m  (Helm only; \`helm history ${release} -n ${namespace}\` lists revisions)`,
    "if a schema migration ran and cannot be undone: runbook restore --snapshot PATH --yes (the pre-upgrade snapshot)",
  ];
}
