/**
 * A request to the Kubernetes API failed, or could not be made (kubeconfig, credentials, network). The message
 * names the request and the namespace; it never quotes a response body, which can hold Secret data.
 */
export class KubeApiError extends Error {
  constructor(
    message: string,
    /** True when the API server answered 404: the object (or namespace) does not exist. */
    readonly notFound: boolean,
    /** The HTTP status, when the API server answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}
