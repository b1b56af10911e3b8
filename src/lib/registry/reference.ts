/** A content digest pins the exact image; only sha256 is used by the registries we target. */
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The OCI distribution spec's tag grammar. */
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** True for any tag the OCI distribution spec allows (policy aside: `latest` passes here). */
export function isOciTag(tag: string): boolean {
  return OCI_TAG.test(tag);
}

export function isDigest(tag: string): boolean {
  return SHA256_DIGEST.test(tag);
}

/** `registry/repository[:tag][@sha256:digest]`, split into what the distribution API needs. */
export interface ImageReference {
  /** host[:port] as written (`docker.io` when the reference names no registry). */
  readonly registry: string;
  /** Path inside the registry, e.g. `proj/repo/api`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export class InvalidImageReference extends Error {}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$/;
const IPV6_HOST = /^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Parses an image reference. Like Docker, the first path component is a registry only when it looks like a
 * host (has a dot or a port, or is localhost); otherwise the image lives on Docker Hub.
 */
export function parseImageReference(text: string): ImageReference {
  const input = text.trim();
  if (input.length === 0) throw new InvalidImageReference("the image reference is empty");
  const slash = input.indexOf("/");
  const first = slash === -1 ? "" : input.slice(0, slash);
  const hasRegistry = slash !== -1 && (/[.:]/.test(first) || first === "localhost" || first.startsWith("["));
  const registry = hasRegistry ? first : "docker.io";
  let rest = hasRegistry ? input.slice(slash + 1) : input;
  if (!HOST.test(registry) && !IPV6_HOST.test(registry)) {
    throw new InvalidImageReference(`'${registry}' in '${input}' is not a valid registry host`);
  }

  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) {
      throw new InvalidImageReference(`'${digest}' in '${input}' is not a sha256: digest (sha256: and 64 hex digits)`);
    }
  }
  // Repository paths cannot contain ':', so the first one starts the tag; a tag holding '/' is then rejected
  // as a tag rather than misread as part of the repository.
  let tag: string | undefined;
  const colon = rest.indexOf(":");
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isOciTag(tag)) {
      throw new InvalidImageReference(
        `the tag '${tag}' in '${input}' is not a valid image tag (letters, digits, '_', '.', '-'; at most 128 characters)`,
      );
    }
  }
  const components = rest.split("/");
  if (!components.every((c) => PATH_COMPONENT.test(c))) {
    throw new InvalidImageReference(
      `'${rest}' in '${input}' is not a valid repository path (lowercase letters, digits, and . _ - between them)`,
    );
  }
  const repository = registry === "docker.io" && components.length === 1 ? `library/${rest}` : rest;
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The tag or digest the manifests endpoint is asked for; a digest wins because it is exact. */
export function manifestReference(ref: ImageReference): string | undefined {
  return ref.digest ?? ref.tag;
}

/** How an operator writes the image: `registry/repository:tag` or `registry/repository@sha256:...`. */
export function formatImageReference(ref: ImageReference): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest !== undefined) return `${name}@${ref.digest}`;
  return ref.tag === undefined ? name : `${name}:${ref.tag}`;
}

/** Host without port or IPv6 brackets. */
export function registryHostname(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const colon = registry.lastIndexOf(":");
  return colon === -1 ? registry : registry.slice(0, colon);
}

/** Plain HTTP is only acceptable without a flag for registries on this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The host that serves the API; Docker Hub's API is not at docker.io itself. */
export function apiHost(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}
