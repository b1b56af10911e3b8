import type { Stack } from "@pulumi/pulumi/automation";

export interface UpOutcome {
  readonly result: string;
  readonly version?: number;
  readonly outputs: Record<string, unknown>;
}

/** `pulumi up` of the stack, its output passed on line by line; secret outputs come back as `[secret]`. */
export async function runUp(stack: Stack, progress: (line: string) => void): Promise<UpOutcome> {
  const result = await stack.up({ onOutput: (out) => progress(out.replace(/\n$/, "")), color: "never" });
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result.outputs)) outputs[k] = v.secret ? "[secret]" : v.value;
  return { result: String(result.summary.result), version: result.summary.version, outputs };
}
