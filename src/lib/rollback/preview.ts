import type { Stack } from "@pulumi/pulumi/automation";
import { redactSecrets } from "../redact";
import type { ConfigChange } from "./full-target";
import { withPulumiEnvironment } from "./pulumi-environment";
import { withConfigChanges } from "./stack-file";

export interface PreviewOutcome {
  readonly ok: boolean;
  /** `update: 4, same: 6, replace: 1`: what the up would do. */
  readonly summary: string;
  /** The engine's printed preview (diff and the program's messages). */
  readonly output: string;
  /** Why the preview failed: the program's config validation, the promotion gate, the chart... */
  readonly error?: string;
}

/**
 * A real `pulumi preview` of version N's config, written into the stack file only for the preview and put
 * back byte for byte afterwards, however the preview ends: the plan proves the config loads and passes the
 * program's gates before anything changes.
 */
export async function previewTarget(
  stack: Stack,
  stackFile: string,
  changes: readonly ConfigChange[],
  env: NodeJS.ProcessEnv,
): Promise<PreviewOutcome> {
  let output = "";
  try {
    const result = await withConfigChanges(stackFile, changes, () =>
      withPulumiEnvironment(env, () => stack.preview({ color: "never", onOutput: (o) => (output += o) })),
    );
    const summary = Object.entries(result.changeSummary)
      .map(([op, n]) => `${op}: ${n}`)
      .join(", ");
    return { ok: true, summary, output: redactSecrets(output, env) };
  } catch (err) {
    const message = (err as Error).message;
    const diagnostics = message
      .split("\n")
      .filter((l) => /error|refus|problem|  - /i.test(l))
      .slice(-20)
      .join("\n");
    return {
      ok: false,
      summary: "failed",
      output: redactSecrets(output, env),
      error: redactSecrets(diagnostics || message.split("\n").slice(-15).join("\n"), env),
    };
  }
}
