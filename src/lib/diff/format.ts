/** The rendered diff as text for a terminal or Pulumi's preview: the unified diffs, the summary, the images. */
import type { RenderedDiff } from "./rendered-diff";
import { imageChangeLines } from "./summary";

/** The one-paragraph form: where from and to, the summary line, the image changes. */
export function formatDiffSummary(diff: RenderedDiff): string {
  const from =
    diff.live === undefined
      ? "not installed (first install)"
      : `revision ${diff.live.revision} (${diff.live.status}, chart ${diff.live.chart})`;
  const images = imageChangeLines(diff.imageChanges);
  return [
    `${diff.namespace}/${diff.release}: ${from} → chart ${diff.target.chart} ${diff.target.version}`,
    diff.summary,
    ...(images.length > 0 ? ["image changes:", ...images.map((l) => `  ${l}`)] : []),
  ].join("\n");
}

/** Every unified diff, then the summary. */
export function formatRenderedDiff(diff: RenderedDiff): string {
  const diffs = diff.objects.flatMap((o) => (o.diff === undefined ? [] : [o.diff.trimEnd()]));
  return [...diffs, ...(diffs.length > 0 ? [""] : []), formatDiffSummary(diff)].join("\n");
}
