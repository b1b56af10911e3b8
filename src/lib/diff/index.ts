export { renderedDiff } from "./rendered-diff";
export type { RenderedDiff, RenderedDiffInput } from "./rendered-diff";
export type { Change, ObjectDiff } from "./compare";
export type { ImageChange } from "./image-changes";
export type { ObjectKey } from "./manifest-objects";
export type { KindSummary } from "./summary";
export { formatDiffSummary, formatRenderedDiff } from "./format";
