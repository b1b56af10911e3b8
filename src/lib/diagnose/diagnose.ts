import {
  ContainerStatus,
  KubeTarget,
  listPods,
  listReleasePods,
  Pod,
  PodEvent,
  podProblem,
  readPodEvents,
  readPodLog,
} from "../kube";
import { instanceSelector } from "../kube/target";
import { findStartupErrors } from "../verify/startup-errors";
import { MIGRATION_ERROR_PATTERNS } from "../verify/migration-errors";
import { maskSecrets } from "./mask-secrets";
import { redactSecrets } from "../redact";
import { readSecretValues, referencedSecrets } from "./secret-values";

export interface DiagnoseOptions {
  readonly target: KubeTarget;
  readonly release: string;
  /** Lines read from the end of each log. */
  readonly logLines: number;
  /** How many of the newest events of the release's pods are kept. */
  readonly maxEvents: number;
  /** Keycloak's pods (`kubectl logs -l app=keycloak`); the first selector that matches any pod is read. */
  readonly keycloakSelectors: readonly string[];
  /** The infrastructure pods (`kubectl get pods -l app.kubernetes.io/component=database`). */
  readonly infrastructureSelector: string;
  readonly env: NodeJS.ProcessEnv;
}

/** One pod in a line: what `kubectl get pods` shows, and what is wrong with it. */
export interface PodSummary {
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly restarts: number;
  /** CrashLoopBackOff (governance, 7 restarts), not Ready, phase Pending (ErrImagePull)…; absent when healthy. */
  readonly problem?: string;
}

/** A container that keeps restarting, with the logs of the run that crashed (`kubectl logs --previous`). */
export interface CrashLoop {
  readonly pod: string;
  readonly container: string;
  readonly init: boolean;
  readonly restarts: number;
  /** How the last run ended: `Error, exit code 1`. */
  readonly lastExit?: string;
  /** The previous run's last lines, secrets masked. */
  readonly previousLogs: readonly string[];
  /** Names of the migration-error patterns (the guide's causes) those lines match, in order, each once. */
  readonly migrationErrors: readonly string[];
}

/** An init container that has not finished: it waits for a dependency (PostgreSQL, Redis, Keycloak). */
export interface WaitingInit {
  readonly pod: string;
  readonly container: string;
  /** running (its wait loop) or waiting (with a reason such as ImagePullBackOff). */
  readonly state: "running" | "waiting";
  readonly reason?: string;
  /** When it started running (ISO 8601). */
  readonly since?: string;
  /** Its current last lines (what it waits for), secrets masked; empty while it is not running. */
  readonly logs: readonly string[];
}

export interface DiagnoseReport {
  readonly namespace: string;
  readonly release: string;
  /** The release's pods (app.kubernetes.io/instance=RELEASE). */
  readonly pods: readonly PodSummary[];
  readonly crashLoops: readonly CrashLoop[];
  /** The newest events of the release's pods first, messages masked. */
  readonly events: readonly PodEvent[];
  readonly waitingInitContainers: readonly WaitingInit[];
  readonly infrastructure: { readonly selector: string; readonly pods: readonly PodSummary[] };
  readonly keycloak: {
    /** The selector whose pods were read; the first one tried when none matched. */
    readonly selector: string;
    readonly pods: readonly string[];
    /** `[pod/NAME/CONTAINER] line`, secrets masked. */
    readonly logs: readonly string[];
  };
  /** What could not be read, each naming the request: the rest of the report holds what could. */
  readonly errors: readonly string[];
}

/** Reasons an init container has while it waits for its turn, not for a dependency. */
const QUEUED = new Set(["PodInitializing"]);

/**
 * Gathers what the em-runtime upgrade guide's troubleshooting section asks for, through the API server:
 * `kubectl logs --previous` of the crash-looping containers, the recent events of the release's pods, the init
 * containers still waiting on dependencies (and what they print), the infrastructure pods and Keycloak's
 * logs. Every part is read on its own; one that fails is named in `errors`. Values of the Secrets the pods
 * use, and anything that looks like a password or token, are masked in every log line and event.
 */
export async function runDiagnose(options: DiagnoseOptions): Promise<DiagnoseReport> {
  const { target, release, env } = options;
  const errors: string[] = [];
  const attempt = async <T>(fallback: T, read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      // The runbook's own words (the request and the answer's status), never a value: only its secrets to remove.
      errors.push(redactSecrets((err as Error).message, env));
      return fallback;
    }
  };

  const [pods, infrastructurePods, keycloak] = await Promise.all([
    attempt<Pod[]>([], () => listReleasePods(release, target, env)),
    attempt<Pod[]>([], () => listPods(target, env, options.infrastructureSelector)),
    attempt({ selector: options.keycloakSelectors[0] ?? "app=keycloak", pods: [] as Pod[] }, () =>
      findKeycloak(options),
    ),
  ]);

  const secrets = await readSecretValues(referencedSecrets([...pods, ...keycloak.pods]), target, env);
  for (const unread of secrets.unread) {
    errors.push(`Secret ${redactSecrets(unread, env)} (its values could only be masked by pattern)`);
  }
  const mask = (text: string) => maskSecrets(text, secrets.values, env);
  const log = (pod: string, container: string, previous: boolean) =>
    attempt<string[]>([], async () =>
      (await readPodLog({ pod, container, tailLines: options.logLines, previous }, target, env)).map(mask),
    );

  const podNames = new Set(pods.map(nameOf));
  const [crashLoops, events, waitingInitContainers, keycloakLogs] = await Promise.all([
    Promise.all(
      crashLooping(pods).map(async (c): Promise<CrashLoop> => {
        const previousLogs = await log(c.pod, c.container, true);
        const matched = findStartupErrors(previousLogs, MIGRATION_ERROR_PATTERNS).map((e) => e.pattern);
        return { ...c, previousLogs, migrationErrors: [...new Set(matched)] };
      }),
    ),
    attempt<PodEvent[]>([], async () =>
      (await readPodEvents(podNames, target, env))
        .slice(0, options.maxEvents)
        .map((e) => ({ ...e, message: mask(e.message) })),
    ),
    Promise.all(
      waitingInits(pods).map(async (w): Promise<WaitingInit> => ({
        ...w,
        logs: w.state === "running" ? await log(w.pod, w.container, false) : [],
      })),
    ),
    Promise.all(
      keycloak.pods.map(async (p) => {
        const container = keycloakContainer(p);
        if (container === undefined) return [];
        return (await log(nameOf(p), container, false)).map((l) => `[pod/${nameOf(p)}/${container}] ${l}`);
      }),
    ),
  ]);

  return {
    namespace: target.namespace,
    release,
    pods: pods.map(summarise),
    crashLoops,
    events,
    waitingInitContainers,
    infrastructure: { selector: options.infrastructureSelector, pods: infrastructurePods.map(summarise) },
    keycloak: { selector: keycloak.selector, pods: keycloak.pods.map(nameOf), logs: keycloakLogs.flat() },
    errors,
  };
}

/** The release's pods' selector, as the report's text names it. */
export function releasePodSelector(release: string): string {
  return instanceSelector(release);
}

async function findKeycloak(options: DiagnoseOptions): Promise<{ selector: string; pods: Pod[] }> {
  for (const selector of options.keycloakSelectors) {
    const pods = await listPods(options.target, options.env, selector);
    if (pods.length > 0) return { selector, pods };
  }
  return { selector: options.keycloakSelectors[0] ?? "app=keycloak", pods: [] };
}

/** `kubectl logs -l app=keycloak` reads the default container: the one named keycloak, else the first. */
function keycloakContainer(pod: Pod): string | undefined {
  const containers = pod.spec?.containers ?? [];
  return (containers.find((c) => c.name === "keycloak") ?? containers[0])?.name;
}

function nameOf(pod: Pod): string {
  return pod.metadata?.name ?? "(unnamed)";
}

function summarise(pod: Pod): PodSummary {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const problem = pod.status?.phase === "Succeeded" ? undefined : podProblem(pod);
  return {
    name: nameOf(pod),
    phase: pod.status?.phase ?? "Unknown",
    ready: pod.status?.conditions?.find((c) => c.type === "Ready")?.status === "True",
    restarts: statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
    ...(problem === undefined ? {} : { problem }),
  };
}

/** Containers in CrashLoopBackOff, or restarted and down now after a failed run: their previous run crashed. */
function crashLooping(pods: readonly Pod[]): Omit<CrashLoop, "previousLogs" | "migrationErrors">[] {
  const found: Omit<CrashLoop, "previousLogs" | "migrationErrors">[] = [];
  for (const pod of pods) {
    const each = (statuses: ContainerStatus[] | undefined, init: boolean) => {
      for (const c of statuses ?? []) {
        const restarts = c.restartCount ?? 0;
        const looping =
          c.state?.waiting?.reason === "CrashLoopBackOff" ||
          (restarts > 0 && c.ready !== true && c.lastState?.terminated !== undefined && c.state?.running === undefined);
        if (!looping) continue;
        const last = c.lastState?.terminated;
        const lastExit =
          last === undefined ? undefined : `${last.reason ?? "terminated"}, exit code ${last.exitCode ?? "?"}`;
        found.push({ pod: nameOf(pod), container: c.name, init, restarts, ...(lastExit ? { lastExit } : {}) });
      }
    };
    each(pod.status?.initContainerStatuses, true);
    each(pod.status?.containerStatuses, false);
  }
  return found;
}

/** Init containers of pods not yet started that are running (a wait loop) or stuck waiting, not crashing. */
function waitingInits(pods: readonly Pod[]): Omit<WaitingInit, "logs">[] {
  const found: Omit<WaitingInit, "logs">[] = [];
  for (const pod of pods) {
    for (const c of pod.status?.initContainerStatuses ?? []) {
      const running = c.state?.running;
      const waiting = c.state?.waiting;
      if (running !== undefined) {
        found.push({
          pod: nameOf(pod),
          container: c.name,
          state: "running",
          ...(running.startedAt ? { since: running.startedAt } : {}),
        });
      } else if (
        waiting?.reason !== undefined &&
        !QUEUED.has(waiting.reason) &&
        waiting.reason !== "CrashLoopBackOff"
      ) {
        found.push({ pod: nameOf(pod), container: c.name, state: "waiting", reason: waiting.reason });
      }
    }
  }
  return found;
}
