/** Where the runbook reads from: the namespace, and optionally a kubeconfig context. KUBECONFIG comes from the environment. */
export interface KubeTarget {
  readonly namespace: string;
  /** A context of the kubeconfig; its current context when absent. */
  readonly context?: string;
}

/** The label Helm charts put on every object of a release; the runbook selects pods with it. */
export function instanceSelector(release: string): string {
  return `app.kubernetes.io/instance=${release}`;
}
