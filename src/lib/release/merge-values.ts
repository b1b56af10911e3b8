/**
 * How the release's values are layered, for the program (TieredRelease) and for a rollback comparing what a
 * Helm revision recorded with what the values files hold now.
 */

/** Deep-merges plain objects, `over` winning; arrays and scalars are replaced, as Helm merges values. */
export function mergeValues(
  base: Readonly<Record<string, unknown>>,
  over: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    const bothObjects =
      typeof prev === "object" &&
      prev !== null &&
      !Array.isArray(prev) &&
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value);
    out[key] = bothObjects ? mergeValues(prev as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

/** The inline values: site values, then every component's pinned tag on top so nothing can unpin it. */
export function releaseValues(
  siteValues: Readonly<Record<string, unknown>>,
  imageTags: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const image: Record<string, unknown> = {};
  for (const [component, tag] of Object.entries(imageTags)) image[component] = { tag };
  return mergeValues(siteValues, { image });
}
