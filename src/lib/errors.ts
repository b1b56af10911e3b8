/**
 * The two ways an operation of the library ends badly. The CLI maps them to its exit codes (2 and 1); the
 * library never knows about exit codes or flags.
 */

/** Bad flags, missing environment or config: exit 2. The message names what is wrong and how to fix it. */
export class UsageError extends Error {}

/** A check or an operation that ran and failed: exit 1. */
export class OperationFailed extends Error {
  constructor(
    message: string,
    /** Machine-readable detail printed under --json. */
    readonly detail?: unknown,
  ) {
    super(message);
  }
}
