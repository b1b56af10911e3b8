import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered, as the mocks saw it. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/** Canned stdout of the runbook CLI, so outputs parsed from it resolve as in a real run. */
export const CANNED_STDOUT: Record<string, string> = {
  preflight: JSON.stringify({
    ok: true,
    checks: [],
    releaseRevision: 3,
    firstInstall: false,
    currentApiTag: "v1.3.0",
    servingApiTag: "v1.3.0",
    serverVersion: "15.18",
    schemaVersion: "41",
  }),
  snapshot: JSON.stringify({
    ok: true,
    name: "n",
    path: "/snap/x",
    manifestPath: "/snap/x.manifest.json",
    sha256: "ab".repeat(32),
    bytes: 1234,
    format: "directory",
    serverVersion: "15.18",
    schemaVersion: "41",
  }),
  verify: JSON.stringify({
    ok: true,
    checks: [
      { name: "ready", ok: true, detail: "200" },
      { name: "license", ok: true, detail: "enterprise", warning: "expires in 12 days" },
    ],
    finishedAt: "2026-11-29T14:02:11.000Z",
  }),
};

/** The outputs of other stacks, by the name a StackReference gives; tests set what a lower stack exports. */
export const STACK_OUTPUTS: Record<string, Record<string, unknown>> = {};

/**
 * Installs Pulumi mocks that record every resource and answer every `call` with an error: the program
 * must not invoke anything (a preview-time invoke would run on every `pulumi preview`).
 */
let installed: RecordedResource[] | undefined;

/**
 * Mocks are process-wide and mocha loads every test file before running any: all files share one
 * installation and one record, so a later file cannot swap the mocks under an earlier one.
 */
export function installMocks(project = "release-runbook", stack = "unit"): RecordedResource[] {
  if (installed !== undefined) return installed;
  const recorded: RecordedResource[] = [];
  installed = recorded;
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "command:local:Command") {
          const sub = /\/bin\/runbook\.js ([a-z-]+)/.exec(String(args.inputs.create))?.[1] ?? "";
          state.stdout = CANNED_STDOUT[sub] ?? "";
          state.stderr = "";
        }
        if (args.type === "random:index/randomId:RandomId") state.hex = "0a1b2c3d";
        if (args.type === "pulumi:pulumi:StackReference") {
          const outputs = STACK_OUTPUTS[String(args.inputs.name)];
          if (outputs === undefined) throw new Error(`unknown stack ${args.inputs.name}`);
          state.outputs = outputs;
          state.secretOutputNames = [];
        }
        if (args.type === "kubernetes:helm.sh/v3:Release") {
          state.status = {
            revision: 4,
            status: "deployed",
            version: args.inputs.version,
            name: args.inputs.name,
            namespace: args.inputs.namespace,
            chart: "alexandria-ee",
            appVersion: "1.4.0",
          };
        }
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected call to ${args.token}`);
      },
    },
    project,
    stack,
    false,
  );
  return recorded;
}

/**
 * Resolves an Output's value in a test. Uses the Output's own promise so that an error thrown while
 * computing it rejects the test instead of hanging inside apply until the timeout.
 */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}
