/**
 * The objects of a rendered YAML stream (what `helm template` prints, or a Helm release record's manifest and
 * hooks), each with the identity Helm and the API server give it: API group, kind, namespace and name.
 */
import * as YAML from "yaml";
import { OperationFailed } from "../errors";

/** Helm's annotation that makes an object a hook (its value: the events, e.g. "pre-upgrade,pre-install"). */
export const HOOK_ANNOTATION = "helm.sh/hook";

/**
 * What makes two objects the same object: the version is left out, so `apps/v1beta2` → `apps/v1` of one
 * Deployment is a change of that Deployment, not a removal and an addition.
 */
export interface ObjectKey {
  /** The API group: "" for the core group (v1), "apps" for apps/v1. */
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface ManifestObject {
  readonly key: ObjectKey;
  /** The `helm.sh/hook` annotation's value when the object is a hook. */
  readonly hook?: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** One string per identity, for maps. */
export function keyId(key: ObjectKey): string {
  return JSON.stringify([key.group, key.kind, key.namespace, key.name]);
}

/** How an object is named to people: `Deployment alexandria/alexandria-ee-api`, the group when not core. */
export function objectLabel(key: ObjectKey): string {
  const kind = key.group === "" ? key.kind : `${key.kind}.${key.group}`;
  return `${kind} ${key.namespace === "" ? "" : `${key.namespace}/`}${key.name}`;
}

/**
 * Every object of a YAML stream. Objects without a namespace get `defaultNamespace` (Helm installs them into
 * the release's namespace), so a chart that starts spelling the namespace out changes nothing.
 * `what` names the stream in errors; a document's text is never quoted, since it may be a Secret.
 */
export function parseManifest(stream: string, defaultNamespace: string, what: string): ManifestObject[] {
  const objects: ManifestObject[] = [];
  const documents = YAML.parseAllDocuments(stream);
  if (!Array.isArray(documents)) return objects;
  documents.forEach((document, index) => {
    const error = document.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0]?.line;
      throw new OperationFailed(
        `${what}: document ${index + 1}${line === undefined ? "" : ` (line ${line})`} is not valid YAML (${error.code})`,
      );
    }
    const body: unknown = document.toJS();
    if (body === null || body === undefined) return;
    if (typeof body !== "object" || Array.isArray(body)) {
      throw new OperationFailed(`${what}: document ${index + 1} is not a Kubernetes object`);
    }
    objects.push(manifestObject(body as Record<string, unknown>, defaultNamespace, `${what}: document ${index + 1}`));
  });
  return objects;
}

function manifestObject(body: Record<string, unknown>, defaultNamespace: string, where: string): ManifestObject {
  const apiVersion = body.apiVersion;
  const kind = body.kind;
  const metadata = (body.metadata ?? {}) as { name?: unknown; namespace?: unknown; annotations?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof metadata.name !== "string") {
    throw new OperationFailed(`${where} has no apiVersion, kind or metadata.name`);
  }
  const slash = apiVersion.lastIndexOf("/");
  const namespace = typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : "";
  const annotations = (metadata.annotations ?? {}) as Record<string, unknown>;
  const hook = annotations[HOOK_ANNOTATION];
  return {
    key: {
      group: slash === -1 ? "" : apiVersion.slice(0, slash),
      kind,
      namespace: namespace === "" ? defaultNamespace : namespace,
      name: metadata.name,
    },
    ...(typeof hook === "string" && hook !== "" ? { hook } : {}),
    body,
  };
}

/**
 * The objects by identity. Helm refuses a release that holds one object twice; so does the diff, rather than
 * compare against whichever copy came last.
 */
export function objectsById(objects: readonly ManifestObject[], what: string): Map<string, ManifestObject> {
  const byId = new Map<string, ManifestObject>();
  for (const object of objects) {
    const id = keyId(object.key);
    if (byId.has(id)) throw new OperationFailed(`${what} holds ${objectLabel(object.key)} twice`);
    byId.set(id, object);
  }
  return byId;
}
