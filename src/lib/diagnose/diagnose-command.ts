/** The `runbook diagnose` call that gathers the troubleshooting facts of a release: named wherever a check fails. */
export function diagnoseCommand(release: string, namespace: string, context?: string): string {
  return `runbook diagnose --namespace ${namespace} --release ${release}${context === undefined ? "" : ` --context ${context}`}`;
}
