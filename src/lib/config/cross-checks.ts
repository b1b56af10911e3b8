/**
 * Checks that relate two or more keys, run after every key has been read on its own. Each adds a problem
 * (or a warning) naming the key to change.
 */
import type { Reader } from "./reader";
import type { RawConfig, SnapshotFormat } from "./schema";

export interface KeysToRelate {
  readonly isProtected: boolean;
  readonly registryUsername?: string;
  readonly registryInsecure: boolean;
  readonly baseUrl: { readonly text?: string; readonly url?: URL };
  readonly snapshotFormat: SnapshotFormat;
  readonly snapshotJobs: number;
  readonly acknowledgeUpgrade?: string;
  readonly apiTag?: string;
  readonly chartVersion?: string;
  readonly promoteFrom?: string;
  readonly promotionOverride?: string;
  readonly promotionOverrideReason?: string;
}

export function crossCheck(r: Reader, raw: RawConfig, keys: KeysToRelate): void {
  if (raw.registryPassword !== undefined && keys.registryUsername === undefined) {
    r.problem(
      "registryUsername",
      "is required when registryPassword is set (Artifact Registry: oauth2accesstoken; GHCR: your user)",
    );
  }
  if (keys.registryInsecure && keys.isProtected) {
    r.problem("registryInsecure", "a protected stack checks its images over TLS only; remove registryInsecure");
  }
  const { text, url } = keys.baseUrl;
  if (url?.protocol === "http:" && keys.isProtected && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    r.warnings.push(`${r.key("baseUrl")}: verification of a protected stack over plain http (${text})`);
  }
  if (keys.snapshotFormat === "custom" && r.has("snapshotJobs") && keys.snapshotJobs > 1) {
    r.problem("snapshotJobs", "parallel jobs need snapshotFormat=directory (pg_dump -j only writes directories)");
  }
  const ack = keys.acknowledgeUpgrade;
  if (ack !== undefined && keys.apiTag !== undefined && ack !== keys.apiTag) {
    r.warnings.push(
      `${r.key("acknowledgeUpgrade")}: acknowledges ${ack} but the target api tag is ` +
        `${keys.apiTag}; it only counts for that exact target`,
    );
  }
  checkPromotionOverride(r, keys);
}

/** promotionOverride and its reason come together, name this exact target, and only mean something with promoteFrom. */
function checkPromotionOverride(r: Reader, keys: KeysToRelate): void {
  const { promotionOverride: override, promotionOverrideReason: reason } = keys;
  if (override !== undefined && reason === undefined) {
    r.problem(
      "promotionOverrideReason",
      "is required with promotionOverride: say why this target skips the lower stack " +
        "(`pulumi config set promotionOverrideReason 'CVE-2026-1234 hotfix, INC-812'`); it is kept in the stack's outputs",
    );
  }
  if (reason !== undefined && override === undefined) {
    r.problem(
      "promotionOverride",
      "is required with promotionOverrideReason: set it to the exact target api tag or chart version it lets through",
    );
  }
  if (override === undefined) return;
  const names = [keys.apiTag, keys.chartVersion].filter((n): n is string => n !== undefined);
  if (names.length > 0 && !names.includes(override)) {
    r.problem(
      "promotionOverride",
      `names ${override}, but the target is api ${keys.apiTag ?? "(none)"}, chart ${keys.chartVersion ?? "(none)"}; ` +
        "an override counts only for that exact target: set it to the target's api tag or chart version, or remove it",
    );
  }
  if (keys.promoteFrom === undefined) {
    r.warnings.push(`${r.key("promotionOverride")}: has no effect without promoteFrom; remove it`);
  }
}
