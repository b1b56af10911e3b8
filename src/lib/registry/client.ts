import { describeFetchError, fetchWithRetries, RetriesExhausted } from "../http/fetch";
import {
  AuthChallenge,
  basicAuthorization,
  hasBasicCredentials,
  parseWwwAuthenticate,
  RegistryCredentials,
} from "./auth";
import {
  apiHost,
  formatImageReference,
  ImageReference,
  isLoopbackHost,
  manifestReference,
  registryHostname,
} from "./reference";

/** Every manifest kind an image tag can point at: multi-arch indexes and single manifests, OCI and Docker. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export type ImageCheck =
  | { readonly status: "exists"; readonly image: string; readonly digest?: string; readonly mediaType?: string }
  | { readonly status: "missing"; readonly image: string; readonly detail: string }
  | { readonly status: "unauthorized"; readonly image: string; readonly registry: string; readonly detail: string }
  | { readonly status: "error"; readonly image: string; readonly detail: string };

export interface RegistryClientOptions {
  readonly credentials: RegistryCredentials;
  /** Allow plain HTTP to a registry that is not on loopback (--registry-insecure). Default false. */
  readonly allowInsecure?: boolean;
  /** Deadline of each HTTP request. Default 10 s. */
  readonly timeoutMs?: number;
  /** Attempts per request on network errors and 5xx/429. Default 3. */
  readonly attempts?: number;
  /** First backoff step; doubles per attempt. Default 500 ms. */
  readonly backoffMs?: number;
}

const HOW_TO_AUTHENTICATE =
  "set REGISTRY_USERNAME and REGISTRY_PASSWORD (Artifact Registry: oauth2accesstoken and `gcloud auth print-access-token`; " +
  "GHCR: your GitHub user and a PAT with read:packages), or REGISTRY_TOKEN with a bearer token";

/** Thrown inside the client to end the check with a result; never escapes `checkImage`. */
class CheckEnded extends Error {
  constructor(readonly result: ImageCheck) {
    super(result.status);
  }
}

/** Does `registry/repository:tag` (or `@sha256:...`) exist? Never throws: every outcome is an ImageCheck. */
export async function checkImage(ref: ImageReference, options: RegistryClientOptions): Promise<ImageCheck> {
  try {
    return await new ManifestProbe(ref, options).run();
  } catch (err) {
    if (err instanceof CheckEnded) return err.result;
    return {
      status: "error",
      image: formatImageReference(ref),
      detail: describeFetchError(err, options.timeoutMs ?? 10_000),
    };
  }
}

class ManifestProbe {
  private readonly image: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly plainHttpAllowed: boolean;

  constructor(
    private readonly ref: ImageReference,
    private readonly options: RegistryClientOptions,
  ) {
    this.image = formatImageReference(ref);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.backoffMs = options.backoffMs ?? 500;
    this.plainHttpAllowed = options.allowInsecure === true || isLoopbackHost(registryHostname(ref.registry));
  }

  async run(): Promise<ImageCheck> {
    const reference = manifestReference(this.ref);
    if (reference === undefined) {
      throw this.error(`${this.image} names no tag or digest`);
    }
    const scheme = this.plainHttpAllowed ? "http" : "https";
    // Repository, tag and digest were checked against the distribution grammar: nothing in them needs escaping.
    const url = `${scheme}://${apiHost(this.ref.registry)}/v2/${this.ref.repository}/manifests/${reference}`;
    const { credentials } = this.options;

    let authorization = credentials.token === undefined ? undefined : `Bearer ${credentials.token}`;
    let res = await this.manifestRequest(url, authorization);
    if (res.status === 401 && credentials.token === undefined) {
      authorization = await this.answerChallenge(res.headers.get("www-authenticate"));
      res = await this.manifestRequest(url, authorization);
    }
    return this.interpret(res, authorization);
  }

  /** HEAD first (no body to download); some registries refuse HEAD on manifests, so fall back to GET. */
  private async manifestRequest(url: string, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
    if (authorization !== undefined) headers.Authorization = authorization;
    const head = await this.request(url, { method: "HEAD", headers });
    if (head.status !== 405 && head.status !== 501) return head;
    const get = await this.request(url, { method: "GET", headers });
    // Only the headers matter; do not download the manifest body.
    await get.body?.cancel();
    return get;
  }

  /** One request with bounded retries on network errors, timeouts, 5xx and 429. */
  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetchWithRetries(
        url,
        { ...init, redirect: "follow" },
        { attempts: this.attempts, timeoutMs: this.timeoutMs, backoffMs: this.backoffMs },
      );
    } catch (err) {
      if (!(err instanceof RetriesExhausted)) throw err;
      throw this.error(`could not reach registry ${new URL(url).host}: ${err.message}`);
    }
  }

  /** Turns a 401 challenge into an Authorization header, or ends the check as unauthorized. */
  private async answerChallenge(header: string | null): Promise<string> {
    const challenges = parseWwwAuthenticate(header ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer");
    const basic = challenges.find((c) => c.scheme === "basic");
    const { credentials } = this.options;
    if (bearer !== undefined && bearer.params.realm !== undefined) {
      return `Bearer ${await this.fetchToken(bearer)}`;
    }
    if (basic !== undefined) {
      if (!hasBasicCredentials(credentials)) {
        throw this.unauthorized(
          `registry ${this.ref.registry} requires credentials for ${this.image}: ${HOW_TO_AUTHENTICATE}`,
        );
      }
      return basicAuthorization(credentials.username, credentials.password);
    }
    throw this.unauthorized(
      `registry ${this.ref.registry} answered 401 with no usable challenge (WWW-Authenticate: ${header ?? "none"}); ${HOW_TO_AUTHENTICATE}`,
    );
  }

  /** The distribution token flow: GET realm?service=&scope=, with basic credentials when we have them. */
  private async fetchToken(challenge: AuthChallenge): Promise<string> {
    const realm = new URL(challenge.params.realm!);
    if (realm.protocol !== "https:" && !(this.options.allowInsecure === true || isLoopbackHost(realm.hostname))) {
      throw this.error(
        `registry ${this.ref.registry} sent a token realm over plain HTTP (${realm.origin}); refusing to use it`,
      );
    }
    if (challenge.params.service !== undefined) realm.searchParams.set("service", challenge.params.service);
    realm.searchParams.set("scope", challenge.params.scope ?? `repository:${this.ref.repository}:pull`);
    const { credentials } = this.options;
    const headers: Record<string, string> = {};
    if (hasBasicCredentials(credentials))
      headers.Authorization = basicAuthorization(credentials.username, credentials.password);

    const res = await this.request(realm.toString(), { method: "GET", headers });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.unauthorized(
        hasBasicCredentials(credentials)
          ? `the token service of ${this.ref.registry} rejected the credentials in REGISTRY_USERNAME/REGISTRY_PASSWORD (${res.status})`
          : `registry ${this.ref.registry} requires credentials for ${this.image}: ${HOW_TO_AUTHENTICATE}`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw this.error(`the token service of ${this.ref.registry} answered ${res.status}`);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === "string" ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") {
      throw this.error(`the token service of ${this.ref.registry} returned no token`);
    }
    return token;
  }

  private interpret(res: Response, authorization: string | undefined): ImageCheck {
    const { credentials } = this.options;
    switch (res.status) {
      case 200:
        return {
          status: "exists",
          image: this.image,
          ...optional("digest", res.headers.get("docker-content-digest")),
          ...optional("mediaType", res.headers.get("content-type")),
        };
      case 404:
        return {
          status: "missing",
          image: this.image,
          detail: `${this.image} not found in registry ${this.ref.registry}`,
        };
      case 401:
      case 403: {
        const denied = res.status === 403 ? "denied access to" : "did not accept the credentials for";
        let detail: string;
        if (credentials.token !== undefined) {
          detail = `registry ${this.ref.registry} ${denied} ${this.image} with REGISTRY_TOKEN (${res.status}); check the token`;
        } else if (hasBasicCredentials(credentials) && authorization !== undefined) {
          detail = `registry ${this.ref.registry} ${denied} ${this.image} with REGISTRY_USERNAME/REGISTRY_PASSWORD (${res.status}); check them`;
        } else {
          detail = `registry ${this.ref.registry} requires credentials for ${this.image} (${res.status}): ${HOW_TO_AUTHENTICATE}`;
        }
        return this.unauthorized(detail).result;
      }
      default:
        return this.error(`registry ${this.ref.registry} answered ${res.status} for ${this.image}`).result;
    }
  }

  private unauthorized(detail: string): CheckEnded {
    return new CheckEnded({ status: "unauthorized", image: this.image, registry: this.ref.registry, detail });
  }

  private error(detail: string): CheckEnded {
    return new CheckEnded({ status: "error", image: this.image, detail });
  }
}

function optional<K extends string>(key: K, value: string | null): Partial<Record<K, string>> {
  return value === null || value === "" ? {} : ({ [key]: value } as Record<K, string>);
}
