/**
 * Charts in an OCI registry that wants credentials (em-runtime's `oci://ghcr.io/emergenceai/charts/em-runtime`):
 * a private login for one helm command, and the pull the Release installs from.
 *
 * Why the runbook pulls the chart itself: pulumi-kubernetes' helm.v3.Release (provider 4.32, helm 3.18) hands
 * an `oci://` chart to helm's OCI getter together with the provider's own registry client, and that getter then
 * uses the client's credentials file only: `repositoryOpts.username`/`password` reach the getter as basic-auth
 * options it never reads (provider pkg/provider/helm_release.go locateChart; helm pkg/getter/ocigetter.go).
 * The client's file is the provider's `helmReleaseSettings.registryConfigPath` (or PULUMI_K8S_HELM_REGISTRY_CONFIG_PATH
 * in the engine's environment): a credential on disk for the whole deployment, and a provider input whose change
 * would replace the Release. So the program pulls the chart at program time (preview and up alike) with a
 * login that lives only in a private temporary registry config, and gives the Release the pulled archive.
 *
 * Plain HTTP: helm 3's registry client retries a TLS handshake that a plain-HTTP server answered over plain
 * HTTP (pkg/registry/fallback.go, "only provided in v3"), so a loopback test registry works without flags;
 * the runbook asks for `--plain-http` itself on loopback only, so nothing depends on that fallback.
 *
 * The password reaches helm on stdin (`--password-stdin`), never argv, and never the logs: helm's own
 * messages are redacted of it before they are quoted.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { childEnvironment, NETWORK_ENV_VARS } from "../child-env";
import { OperationFailed, UsageError } from "../errors";
import { redactSecrets } from "../redact";
import { isLoopbackHost } from "../registry";

/** Credentials for a chart registry (the stack's chartRegistryUsername / chartRegistryPassword). */
export interface ChartRegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** The registry refused the credentials (or wanted some and got none): the fix is the credentials. */
export class ChartRegistryLoginRefused extends OperationFailed {}

/** What helm reads besides the basics: its own settings, the XDG directories, TLS trust and proxies. */
const HELM_NEEDS = { inherit: [...NETWORK_ENV_VARS], inheritPrefixes: ["HELM_", "XDG_"] } as const;
const STDERR_KEEP_BYTES = 8 * 1024;

/** Whether `chart` names an OCI chart (`oci://host[:port]/path/name`). */
export function isOciChart(chart: string): boolean {
  return chart.startsWith("oci://");
}

/** The registry of an `oci://` chart as helm logs in to it (`host[:port]`). */
export function ociRegistryOf(chart: string): string {
  if (!isOciChart(chart)) throw new UsageError(`'${chart}' is not an oci:// chart`);
  const rest = chart.slice("oci://".length);
  const host = rest.split("/")[0];
  if (host === "" || !rest.includes("/")) {
    throw new UsageError(`'${chart}' names no registry and repository; write it as oci://HOST[:PORT]/PATH/NAME`);
  }
  return host;
}

/** The hostname of `host[:port]` (IPv6 literals in brackets). */
function hostnameOf(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  return registry.split(":")[0];
}

/** `--plain-http` for a registry on loopback (a test or port-forwarded registry), nothing for any other. */
export function plainHttpArgs(registry: string): string[] {
  return isLoopbackHost(hostnameOf(registry)) ? ["--plain-http"] : [];
}

/**
 * Runs `work` with the argv that points helm at a registry config holding a login to `chart`'s registry
 * (`--registry-config FILE`, plus `--plain-http` on loopback), or at helm's own config when there are no
 * credentials. The login is made with `helm registry login --password-stdin` into a private temporary
 * directory (0700) removed afterwards, whatever happens. A refused login fails naming the registry and the user.
 */
export async function withChartRegistryLogin<T>(
  chart: string,
  credentials: ChartRegistryCredentials | undefined,
  env: NodeJS.ProcessEnv,
  work: (helmArgs: string[]) => Promise<T>,
): Promise<T> {
  const registry = ociRegistryOf(chart);
  const plain = plainHttpArgs(registry);
  if (credentials === undefined) return work(plain);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-chart-registry-"));
  try {
    fs.chmodSync(dir, 0o700);
    const config = path.join(dir, "registry.json");
    const redactEnv = { ...env, CHART_REGISTRY_PASSWORD: credentials.password };
    try {
      await runHelm(
        [
          "registry",
          "login",
          registry,
          "--registry-config",
          config,
          "--username",
          credentials.username,
          "--password-stdin",
          ...plain,
        ],
        env,
        credentials.password,
      );
    } catch (err) {
      throw new ChartRegistryLoginRefused(
        `the chart registry ${registry} refused the login of user '${credentials.username}': ` +
          redactSecrets((err as Error).message, redactEnv),
      );
    }
    return await work(["--registry-config", config, ...plain]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface ChartPull {
  /** `oci://host[:port]/path/name`. */
  readonly chart: string;
  /** The exact chart version (`--version`). */
  readonly version: string;
  readonly credentials?: ChartRegistryCredentials;
  /** Directory the archive is written to (created 0700 when missing). */
  readonly destination: string;
}

/**
 * `helm pull` of an OCI chart at its pinned version into `destination`, atomically (into a temporary
 * directory next to it, then one rename): returns the archive's path, `<destination>/<name>-<version>.tgz`.
 */
export async function pullOciChart(pull: ChartPull, env: NodeJS.ProcessEnv): Promise<string> {
  const registry = ociRegistryOf(pull.chart);
  fs.mkdirSync(pull.destination, { recursive: true, mode: 0o700 });
  const staging = fs.mkdtempSync(path.join(pull.destination, ".pull-"));
  try {
    await withChartRegistryLogin(pull.chart, pull.credentials, env, async (helmArgs) => {
      try {
        await runHelm(["pull", pull.chart, "--version", pull.version, "--destination", staging, ...helmArgs], env);
      } catch (err) {
        const redactEnv = { ...env, CHART_REGISTRY_PASSWORD: pull.credentials?.password };
        const message = (err as Error).message;
        // Without credentials, a registry that wants them answers 401: helm says "basic credential not found".
        const refused = pull.credentials === undefined && /basic credential not found|401|unauthorized/i.test(message);
        throw new (refused ? ChartRegistryLoginRefused : OperationFailed)(
          `cannot pull ${pull.chart} version ${pull.version} from ${registry}` +
            `${pull.credentials === undefined ? " (no chart registry credentials given)" : ` as '${pull.credentials.username}'`}: ` +
            redactSecrets(message, redactEnv),
        );
      }
    });
    const archives = fs.readdirSync(staging).filter((f) => f.endsWith(".tgz"));
    if (archives.length !== 1) {
      throw new OperationFailed(
        `helm pull ${pull.chart} ${pull.version} left ${archives.length} archives, expected one`,
      );
    }
    const target = path.join(pull.destination, archives[0]);
    fs.renameSync(path.join(staging, archives[0]), target);
    return target;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Runs helm with `args`, `stdin` written to its standard input; rejects with its last stderr on failure. */
function runHelm(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn("helm", args, {
      env: childEnvironment(env, HELM_NEEDS),
      stdio: ["pipe", "pipe", "pipe"],
      shell: false,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_KEEP_BYTES)));
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new OperationFailed(
          err.code === "ENOENT"
            ? "helm is not on PATH: pulling an oci:// chart needs helm v3; install it or put its directory on PATH"
            : `cannot run helm: ${err.message}`,
        ),
      ),
    );
    child.once("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new OperationFailed(stderr.trim() || (signal === null ? `helm exited ${code}` : `helm: signal ${signal}`)),
        );
    });
    child.stdin.on("error", () => undefined); // helm may exit before reading stdin; its exit status tells why
    child.stdin.end(stdin ?? "");
  });
}
