/**
 * The object-by-object comparison of a live release with a rendered target: which objects are added,
 * changed, removed or unchanged, the unified diff of each one that is not unchanged (Secret values masked),
 * and the image changes.
 */
import { createTwoFilesPatch } from "diff";
import * as YAML from "yaml";
import { canonicalJson } from "../release/release-inputs";
import { ImageChange, imageChangesOf } from "./image-changes";
import { ManifestObject, ObjectKey, objectLabel, objectsById } from "./manifest-objects";
import { maskSecretValues } from "./secret-masking";

export type Change = "added" | "changed" | "removed" | "unchanged";

export interface ObjectDiff {
  readonly key: ObjectKey;
  /** The `helm.sh/hook` annotation (target side, else live side) when the object is a hook. */
  readonly hook?: string;
  readonly change: Change;
  /** Unified diff of the object's YAML (live → target), Secret values masked; absent when unchanged. */
  readonly diff?: string;
}

export interface Comparison {
  readonly objects: readonly ObjectDiff[];
  readonly imageChanges: readonly ImageChange[];
}

/** What the diff headers call the two sides, e.g. "live (revision 4)" and "target". */
export interface SideLabels {
  readonly live: string;
  readonly target: string;
}

const CONTEXT_LINES = 3;

export function compareObjects(
  live: readonly ManifestObject[],
  target: readonly ManifestObject[],
  labels: SideLabels,
): Comparison {
  const liveById = objectsById(live, "the live release");
  const targetById = objectsById(target, "the rendered target");
  // keyId order: by API group, kind, namespace, name; the image changes come in the same order.
  const ids = [...new Set([...targetById.keys(), ...liveById.keys()])].sort();
  const objects: ObjectDiff[] = [];
  const imageChanges: ImageChange[] = [];
  for (const id of ids) {
    const before = liveById.get(id);
    const after = targetById.get(id);
    const key = (after ?? before)!.key;
    const hook = after?.hook ?? before?.hook;
    const change = changeOf(before, after);
    objects.push({
      key,
      ...(hook === undefined ? {} : { hook }),
      change,
      ...(change === "unchanged" ? {} : { diff: unifiedDiff(before, after, labels) }),
    });
    if (change !== "unchanged") imageChanges.push(...imageChangesOf(before, after));
  }
  return { objects, imageChanges };
}

function changeOf(before: ManifestObject | undefined, after: ManifestObject | undefined): Change {
  if (before === undefined) return "added";
  if (after === undefined) return "removed";
  // Compared as data, not text: key order, quoting and comments are not changes.
  return canonicalJson(before.body) === canonicalJson(after.body) ? "unchanged" : "changed";
}

function unifiedDiff(
  before: ManifestObject | undefined,
  after: ManifestObject | undefined,
  labels: SideLabels,
): string {
  const [maskedBefore, maskedAfter] = maskSecretValues(before, after);
  const label = objectLabel((after ?? before)!.key);
  const patch = createTwoFilesPatch(
    `${labels.live}: ${label}`,
    `${labels.target}: ${label}`,
    yamlText(maskedBefore),
    yamlText(maskedAfter),
    undefined,
    undefined,
    { context: CONTEXT_LINES },
  );
  // jsdiff starts with a line of '=' (an Index: separator without the Index line); unified diffs have none.
  return patch.replace(/^=+\n/, "");
}

/** Keys sorted, so that both sides print alike and the diff shows only what differs. */
function yamlText(body: Record<string, unknown> | undefined): string {
  return body === undefined ? "" : YAML.stringify(body, { sortMapEntries: true, lineWidth: 0 });
}
