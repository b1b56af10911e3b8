/**
 * The loopback registries of test/services/registry.sh, and a way to push a tag to them without building an
 * image: a tiny config blob and a Docker v2 manifest with no layers is all the distribution API needs.
 */
import { createHash } from "node:crypto";

export const OPEN_REGISTRY = "127.0.0.1:15000";
export const AUTH_REGISTRY = "127.0.0.1:15001";
export const AUTH_REGISTRY_USER = "ci";
export const AUTH_REGISTRY_PASSWORD = "ci-registry-pw";

const START_HINT = "run `bash test/services/registry.sh start`";

export interface PushTagOptions {
  /** host:port, e.g. OPEN_REGISTRY. */
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
  readonly username?: string;
  readonly password?: string;
}

/** Throws (so the test fails, not skips) when either test registry is down. */
export async function requireTestRegistries(): Promise<void> {
  for (const [registry, expected] of [
    [OPEN_REGISTRY, 200],
    [AUTH_REGISTRY, 401],
  ] as const) {
    let status: number | string;
    try {
      const res = await fetch(`http://${registry}/v2/`, { signal: AbortSignal.timeout(3_000) });
      await res.body?.cancel();
      status = res.status;
    } catch (err) {
      status = (err as Error).message;
    }
    if (status !== expected) {
      throw new Error(`the test registry at ${registry} is not running (GET /v2/: ${status}); ${START_HINT}`);
    }
  }
}

/** Pushes `repository:tag` and returns the manifest digest. */
export async function pushTag(options: PushTagOptions): Promise<string> {
  const base = `http://${options.registry}`;
  const auth: Record<string, string> =
    options.username === undefined
      ? {}
      : { Authorization: `Basic ${Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64")}` };

  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Labels: { tag: options.tag } },
      rootfs: { type: "layers", diff_ids: [] },
    }),
  );
  const configDigest = sha256(config);

  const upload = await call(`${base}/v2/${options.repository}/blobs/uploads/`, { method: "POST", headers: auth }, 202);
  const location = new URL(upload.headers.get("location") ?? "", base);
  location.searchParams.set("digest", configDigest);
  await call(
    location.toString(),
    { method: "PUT", headers: { ...auth, "Content-Type": "application/octet-stream" }, body: config },
    201,
  );

  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: config.length,
        digest: configDigest,
      },
      layers: [],
    }),
  );
  await call(
    `${base}/v2/${options.repository}/manifests/${options.tag}`,
    {
      method: "PUT",
      headers: { ...auth, "Content-Type": "application/vnd.docker.distribution.manifest.v2+json" },
      body: manifest,
    },
    201,
  );
  return sha256(manifest);
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

async function call(url: string, init: RequestInit, expected: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`${init.method} ${url} failed (${(err as Error).message}); ${START_HINT}`);
  }
  if (res.status !== expected) {
    const body = await res.text().catch(() => "");
    throw new Error(
      `${init.method} ${new URL(url).pathname} answered ${res.status}, expected ${expected}: ${body.slice(0, 300)}`,
    );
  }
  await res.body?.cancel();
  return res;
}
