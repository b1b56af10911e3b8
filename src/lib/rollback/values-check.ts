import fs from "node:fs/promises";
import * as YAML from "yaml";
import { decodeHelmReleaseRecord, helmReleaseSecretName } from "../kube/helm-release-record";
import { readSecretKey } from "../kube/secret";
import { mergeValues, releaseValues } from "../release/merge-values";

/** How the values files at HEAD compare with what the Helm revision of version N recorded. */
export type ValuesCheck =
  | { readonly state: "same"; readonly revision: number }
  | { readonly state: "different"; readonly revision: number; readonly paths: string[] }
  | { readonly state: "unknown"; readonly reason: string };

export interface ValuesCheckInput {
  readonly release: string;
  readonly target: { readonly namespace: string; readonly context?: string };
  /** The Helm revision version N produced (runbook history); undefined when it is not known. */
  readonly revision?: number | null;
  /** Version N's values files as its config names them, resolved against the project directory. */
  readonly valuesFiles: readonly string[];
  readonly siteValues: Readonly<Record<string, unknown>>;
  readonly imageTags: Readonly<Record<string, string>>;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Helm stores each revision's user-supplied values (the values files and inline values, merged): what version
 * N really ran with. The values files at HEAD, merged the way the release merges them with N's site values
 * and tags, must give the same values, or the rollback would not bring N back.
 */
export async function checkValuesFiles(input: ValuesCheckInput): Promise<ValuesCheck> {
  if (input.revision === undefined || input.revision === null) {
    return { state: "unknown", reason: "the Helm revision version N produced is not known (runbook history)" };
  }
  let recorded: Record<string, unknown>;
  try {
    const stored = await readSecretKey(
      helmReleaseSecretName(input.release, input.revision),
      "release",
      input.target,
      input.env,
    );
    recorded = decodeHelmReleaseRecord(stored).config;
  } catch (err) {
    return {
      state: "unknown",
      reason: `Helm's record of revision ${input.revision} cannot be read (${(err as Error).message}); maxHistory may have pruned it`,
    };
  }
  let merged: Record<string, unknown> = {};
  for (const file of input.valuesFiles) {
    try {
      const parsed = YAML.parse(await fs.readFile(file, "utf8")) as unknown;
      if (typeof parsed === "object" && parsed !== null)
        merged = mergeValues(merged, parsed as Record<string, unknown>);
    } catch (err) {
      return { state: "unknown", reason: `the values file ${file} cannot be read: ${(err as Error).message}` };
    }
  }
  const expected = mergeValues(merged, releaseValues(input.siteValues, input.imageTags));
  const paths = differingPaths(expected, recorded);
  return paths.length === 0
    ? { state: "same", revision: input.revision }
    : { state: "different", revision: input.revision, paths };
}

/** The leaf paths (a.b.c) whose values differ between two values trees. */
export function differingPaths(a: unknown, b: unknown, prefix = ""): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differingPaths(a[k], b[k], prefix === "" ? k : `${prefix}.${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix === "" ? "(the whole values)" : prefix];
}
