import { instanceSelector, KubectlError, KubeTarget, kubectl } from "./kubectl";
import { listReleasePods } from "./pods";

/**
 * The last `lines` lines of the `container` (default `api`) logs of every pod of the release, each prefixed
 * by kubectl with `[pod/<name>/<container>]`. This is the runbook's
 * `kubectl logs -l app.kubernetes.io/instance=<release> -c api --tail=50`.
 */
export async function readContainerLogs(
  release: string,
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
  lines: number,
  container = "api",
): Promise<string[]> {
  try {
    const out = await kubectl(
      ["logs", "-l", instanceSelector(release), "-c", container, `--tail=${lines}`, "--prefix"],
      target,
      env,
    );
    return splitLines(out);
  } catch (err) {
    // With a selector, kubectl gives up when any selected pod (orchestrator, dashboard) lacks the container;
    // then ask only the pods that have it.
    if (!(err instanceof KubectlError) || !/container .*\bis not valid|container .* not found/i.test(err.stderr))
      throw err;
  }
  const pods = await listReleasePods(release, target, env);
  const names = pods
    .filter((p) => p.status?.phase !== "Succeeded" && p.spec?.containers?.some((c) => c.name === container))
    .map((p) => p.metadata?.name)
    .filter((n): n is string => n !== undefined);
  const out: string[] = [];
  for (const name of names) {
    out.push(
      ...splitLines(
        await kubectl(["logs", `pod/${name}`, "-c", container, `--tail=${lines}`, "--prefix"], target, env),
      ),
    );
  }
  return out;
}

function splitLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}
