import http from "node:http";
import https from "node:https";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "./kube-api-error";
import type { KubeTarget } from "./target";

/** One GET against the API server. */
export interface KubeRequest {
  /** What is asked, for messages: "reading secret alexandria-db". Never a value. */
  readonly what: string;
  /** The API path, e.g. /api/v1/namespaces/prod/pods. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** The Accept header; when absent, getJson asks for application/json and getText for anything. */
  readonly accept?: string;
}

/** Reads from the cluster of one kubeconfig context, authenticated as that context's user. */
export interface KubeClient {
  readonly namespace: string;
  getJson<T>(request: KubeRequest): Promise<T>;
  getText(request: KubeRequest): Promise<string>;
}

/** Each request gets an answer, or fails saying so, well inside the deadlines of the commands that wait for it. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Pod lists and tailed logs are small; a larger answer means something is wrong, not that memory should grow. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

type ClientNode = typeof import("@kubernetes/client-node");
let clientNode: Promise<ClientNode> | undefined;

/** Loading client-node costs about a second of CPU: only commands that talk to the cluster pay for it. */
function loadClientNode(): Promise<ClientNode> {
  clientNode ??= import("@kubernetes/client-node");
  return clientNode;
}

/**
 * A client for `target`: the kubeconfig named by env.KUBECONFIG (else ~/.kube/config, else in-cluster), its
 * context `target.context` (else its current one) and that context's credentials: token, client certificate,
 * or an exec plugin, as client-node runs them.
 */
export async function kubeClient(target: KubeTarget, env: NodeJS.ProcessEnv): Promise<KubeClient> {
  const { KubeConfig } = await loadClientNode();
  // Configured on the first request, so that a kubeconfig problem is reported with the request it stopped.
  let configured: ConfiguredCluster | undefined;
  const get = async (request: KubeRequest): Promise<Buffer> => {
    const where = `${request.what} in namespace ${target.namespace}`;
    try {
      configured ??= configure(KubeConfig, target, env);
    } catch (err) {
      throw new KubeApiError(`${where}: ${describeCause(err)}`, false);
    }
    return send(configured, where, request);
  };
  return {
    namespace: target.namespace,
    getText: async (request) => (await get(request)).toString("utf8"),
    getJson: async <T>(request: KubeRequest) => {
      const body = await get({ ...request, accept: request.accept ?? "application/json" });
      try {
        return JSON.parse(body.toString("utf8")) as T;
      } catch {
        throw new KubeApiError(`${request.what} in namespace ${target.namespace}: the answer is not JSON`, false);
      }
    },
  };
}

interface ConfiguredCluster {
  readonly config: KubeConfig;
  /** The API server's URL without a trailing slash. */
  readonly server: string;
}

function configure(
  KubeConfigClass: ClientNode["KubeConfig"],
  target: KubeTarget,
  env: NodeJS.ProcessEnv,
): ConfiguredCluster {
  let config: KubeConfig;
  try {
    config = loadKubeConfig(KubeConfigClass, env);
  } catch (err) {
    throw new Error(`cannot load the kubeconfig: ${describeCause(err)}`);
  }
  if (target.context !== undefined) {
    const names = config.getContexts().map((c) => c.name);
    if (!names.includes(target.context)) {
      throw new Error(
        `kube context '${target.context}' is not in the kubeconfig (contexts: ${names.length > 0 ? names.join(", ") : "none"})`,
      );
    }
    config.setCurrentContext(target.context);
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new Error(`the kubeconfig has no cluster for context '${config.getCurrentContext() || "(none)"}'`);
  }
  return { config, server: cluster.server.replace(/\/+$/, "") };
}

/**
 * loadFromDefault() reads KUBECONFIG from process.env; the commands get their environment as `env`, so the
 * files it names are loaded (and merged, first one winning) the way loadFromDefault loads them.
 */
function loadKubeConfig(KubeConfigClass: ClientNode["KubeConfig"], env: NodeJS.ProcessEnv): KubeConfig {
  const config = new KubeConfigClass();
  const files = (env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f !== "");
  if (files.length === 0) {
    config.loadFromDefault();
    return config;
  }
  config.loadFromFile(files[0]);
  for (const file of files.slice(1)) {
    const more = new KubeConfigClass();
    more.loadFromFile(file);
    config.mergeConfig(more);
  }
  return config;
}

async function send({ config, server }: ConfiguredCluster, where: string, request: KubeRequest): Promise<Buffer> {
  const options: https.RequestOptions = { method: "GET", headers: { Accept: request.accept ?? "*/*" } };
  try {
    // Sets the TLS agent and the Authorization header (running an exec credential plugin when configured).
    await config.applyToHTTPSOptions(options);
  } catch (err) {
    throw new KubeApiError(`${where}: cannot authenticate to the cluster: ${describeCause(err)}`, false);
  }
  const url = new URL(server + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  const transport = url.protocol === "http:" ? http : https;
  const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return new Promise<Buffer>((resolve, reject) => {
    const fail = (err: unknown) =>
      reject(
        signal.aborted
          ? new KubeApiError(`${where}: no answer from ${url.host} within ${REQUEST_TIMEOUT_MS / 1000}s`, false)
          : new KubeApiError(`${where}: cannot reach ${url.host}: ${describeCause(err)}`, false),
      );
    const req = transport.request(url, { ...options, signal }, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy();
          reject(new KubeApiError(`${where}: the answer exceeds ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`, false));
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", fail);
      res.on("end", () => {
        if (status >= 200 && status < 300) {
          resolve(Buffer.concat(chunks));
          return;
        }
        // The body (a Status object) is not quoted: for a Secret it could echo what was sent or stored.
        reject(
          new KubeApiError(
            `${where}: the API server answered ${status} ${res.statusMessage ?? ""}`.trimEnd(),
            status === 404,
            status,
          ),
        );
      });
    });
    req.on("error", fail);
    req.end();
  });
}

/** An error's message without its stack; errno errors by their code, which says more than their text. */
function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = err.message.trim().split("\n")[0];
    return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}
