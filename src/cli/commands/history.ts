import type { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import type { HistoryEntry } from "../../lib/rollback/history";
import { describeTargets } from "../../lib/rollback/targets";

const help = `usage: runbook history --stack STACK [--no-cluster] [--json]

Lists every update of the stack (pulumi stack history) with the target versions it applied (image tags,
chart version, tier), the snapshot it took before its release changed (path, sha256, schema version; with
the stack's snapshotStore also those only in the store, listed where restore downloads them to) and
the Helm release revision it produced (read from the cluster's Helm release Secrets). Versions are the
stack's (\`pulumi stack history\`); a file backend records none, and its updates are numbered from the
oldest, 1, as the Pulumi Cloud numbers them.

options:
  --stack STACK     the Pulumi stack (e.g. prod)
  --no-cluster      do not read release revisions from the cluster
  --json            print one JSON object: {stack, entries: [{version, kind, result, startTime, endTime,
                    targets, snapshot, releaseRevision}]}
  -h, --help        this text

environment: the Pulumi CLI on PATH and its usual variables (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE);
KUBECONFIG for the cluster.

exit codes: 0 listed, 1 the stack or its history could not be read, 2 bad usage`;

export function stackName(values: ParsedValues): string {
  const stack = values.stack;
  if (typeof stack !== "string" || !/^[A-Za-z0-9_./-]+$/.test(stack)) {
    throw new UsageError("--stack STACK is required (e.g. --stack prod); see `pulumi stack ls`");
  }
  return stack;
}

export function formatHistoryLine(e: HistoryEntry): string {
  const revision = e.releaseRevision === undefined ? "" : ` revision ${e.releaseRevision ?? "-"}`;
  const snapshot =
    e.snapshot === undefined
      ? ""
      : `\n      snapshot ${e.snapshot.path} sha256 ${e.snapshot.sha256.slice(0, 12)}… schema ${e.snapshot.schemaVersion ?? "-"}` +
        (e.snapshot.stored === undefined
          ? ""
          : `\n      ${e.snapshot.storeOnly ? "only in the store" : "also in the store"}: ${e.snapshot.stored}`) +
        (e.snapshot.companions ?? []).map((c) => `\n      with ${c.kind} ${c.path}`).join("");
  return `  v${e.version}  ${e.startTime}  ${e.kind} ${e.result}${revision}  ${describeTargets(e.targets) || "(no targets in config)"}${snapshot}`;
}

export const historyCommand: CliCommand = {
  name: "history",
  summary: "list the stack's upgrades: versions applied, snapshot taken, release revision produced",
  help,
  options: { stack: { type: "string" }, "no-cluster": { type: "boolean" } },
  async run(values: ParsedValues, env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const stack = stackName(values);
    // Loaded on use: the Automation API pulls in all of @pulumi/pulumi, which every other command
    // (the snapshot among them) would otherwise pay for at start-up.
    const { readStackFacts } = await import("../../lib/rollback/stack-facts");
    const facts = await readStackFacts(stack, env, { cluster: values["no-cluster"] !== true });
    const where = facts.store === undefined ? "" : ` and ${facts.store.settings.url}`;
    const lines = [`stack ${stack}: ${facts.history.length} update(s), snapshots in ${facts.snapshotDir}${where}`];
    lines.push(...facts.history.map(formatHistoryLine));
    for (const problem of facts.storeProblems ?? []) lines.push(`not listed: ${problem}`);
    if (facts.clusterProblem) lines.push(`release revisions not shown: ${facts.clusterProblem}`);
    return {
      ok: true,
      json: {
        stack,
        snapshotDir: facts.snapshotDir,
        ...(facts.store === undefined ? {} : { store: facts.store.settings.url, storeProblems: facts.storeProblems }),
        entries: facts.history,
        ...(facts.clusterProblem ? { clusterProblem: facts.clusterProblem } : {}),
      },
      text: lines.join("\n"),
    };
  },
};
