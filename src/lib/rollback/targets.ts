/** The project's config namespace: keys in stack history are `release-runbook:<key>`. */
export const PROJECT = "release-runbook";

/** What an update applied: the keys a rollback sets back. */
export interface TargetVersions {
  readonly imageTags: Readonly<Record<string, string>>;
  /** Pinned chart version; absent for a local chart that was not pinned in config. */
  readonly chartVersion?: string;
  readonly chart?: string;
  readonly tier?: string;
}

/** The config keys a rollback rewrites, in the order it sets them. */
export const TARGET_KEYS = ["chart", "chartVersion", "tier"] as const;

type ConfigMap = Readonly<Record<string, { value: string; secret?: boolean } | undefined>>;

/** Reads the target versions out of a stack's config map (from `pulumi stack history` or the workspace). */
export function targetsFromConfig(config: ConfigMap): TargetVersions {
  const get = (key: string) => config[`${PROJECT}:${key}`]?.value;
  let imageTags: Record<string, string> = {};
  const tagsText = get("imageTags");
  if (tagsText !== undefined) {
    try {
      const parsed = JSON.parse(tagsText) as Record<string, unknown>;
      for (const [component, tag] of Object.entries(parsed)) imageTags[component] = String(tag);
    } catch {
      imageTags = {};
    }
  }
  return {
    imageTags,
    ...(get("chartVersion") === undefined ? {} : { chartVersion: get("chartVersion") }),
    ...(get("chart") === undefined ? {} : { chart: get("chart") }),
    ...(get("tier") === undefined ? {} : { tier: get("tier") }),
  };
}

/** One line: `api=v1.4.0 orchestrator=v1.4.0 chart 1.4.0 tier enterprise`. */
export function describeTargets(t: TargetVersions): string {
  const tags = Object.keys(t.imageTags)
    .sort()
    .map((c) => `${c}=${t.imageTags[c]}`)
    .join(" ");
  return [tags, t.chartVersion && `chart ${t.chartVersion}`, t.tier && `tier ${t.tier}`].filter(Boolean).join(" ");
}

/** Each key whose value differs between two targets, as `{key, from, to}` (image tags as `imageTags.<c>`). */
export function targetChanges(from: TargetVersions, to: TargetVersions): { key: string; from?: string; to?: string }[] {
  const changes: { key: string; from?: string; to?: string }[] = [];
  const components = [...new Set([...Object.keys(from.imageTags), ...Object.keys(to.imageTags)])].sort();
  for (const c of components) {
    if (from.imageTags[c] !== to.imageTags[c])
      changes.push({ key: `imageTags.${c}`, from: from.imageTags[c], to: to.imageTags[c] });
  }
  for (const key of TARGET_KEYS) {
    if (from[key] !== to[key]) changes.push({ key, from: from[key], to: to[key] });
  }
  return changes;
}
