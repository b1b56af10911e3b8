import { OperationFailed } from "../errors";

/**
 * Runs work with an AbortSignal that fires on SIGINT or SIGTERM (Ctrl-C, or Pulumi cancelling a command):
 * child tools are stopped and the work's own cleanup runs before the process exits 1, so an interrupted
 * snapshot or restore leaves no partial behind.
 */
export async function withInterruption<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    controller.abort(new OperationFailed(`${what} was interrupted by ${name}; its partial output was removed`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
