/**
 * What the release is made of, reduced to one digest: the chart and its version, the tier, the contents of
 * every values file, the site values, the image tags and repositories. Every guard (preflight, the
 * snapshot) is keyed to it, so a change of any release input runs them, and an unchanged one runs nothing.
 * The digest also goes into the Helm release's description, which is how the live release is recognised
 * as the one this stack made (a hand `helm rollback` or `helm upgrade` writes a description of its own).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface ReleaseInputs {
  readonly chart: { readonly name: string; readonly repository?: string; readonly version: string };
  readonly tier?: string;
  /** Values files in merge order, as configured (relative to projectDir or absolute). */
  readonly valuesFiles: readonly string[];
  readonly siteValues: Readonly<Record<string, unknown>>;
  readonly imageTags: Readonly<Record<string, string>>;
  readonly imageRepositories: Readonly<Record<string, string>>;
}

/** Where the description's own part ends and a note about this particular update may follow. */
const NOTE_SEPARATOR = " | ";
const DIGEST_LABEL = "inputs ";

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** sha256 (first 16 hex digits) over every release input, values files by content. */
export function releaseInputsDigest(inputs: ReleaseInputs, projectDir: string): string {
  const hash = createHash("sha256");
  const part = (label: string, text: string | Buffer) => {
    hash.update(`${label}\0${text.length}\0`);
    hash.update(text);
  };
  part("chart", canonicalJson(inputs.chart));
  part("tier", inputs.tier ?? "");
  for (const file of inputs.valuesFiles) {
    part("values-file", file);
    part("values-content", fs.readFileSync(path.isAbsolute(file) ? file : path.join(projectDir, file)));
  }
  part("site-values", canonicalJson(inputs.siteValues));
  part("image-tags", canonicalJson(inputs.imageTags));
  part("image-repositories", canonicalJson(inputs.imageRepositories));
  return hash.digest("hex").slice(0, 16);
}

/** The Helm release description this stack writes: the target in words, then the inputs' digest. */
export function releaseDescription(inputs: ReleaseInputs, digest: string): string {
  const tags = Object.keys(inputs.imageTags)
    .sort()
    .map((c) => `${c}=${inputs.imageTags[c]}`)
    .join(" ");
  const tier = inputs.tier === undefined ? "" : `tier ${inputs.tier}, `;
  return `release-runbook: ${tier}chart ${inputs.chart.version}${tags === "" ? "" : `, ${tags}`}; ${DIGEST_LABEL}${digest}`;
}

/** The description with a note for this update (why it re-applies an unchanged target). */
export function withNote(description: string, note: string): string {
  return `${description}${NOTE_SEPARATOR}${note}`;
}

/** The description without any note: what identifies the target a live revision was made from. */
export function withoutNote(description: string): string {
  const at = description.indexOf(NOTE_SEPARATOR);
  return at === -1 ? description : description.slice(0, at);
}
