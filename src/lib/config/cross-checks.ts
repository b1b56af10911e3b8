/**
 * The rules that relate two or more keys, and the keys to the application's profile, run after every key has
 * been parsed on its own (keys.ts). Each adds a problem (or a warning) naming the key to change.
 */
import { TIERS, type Profile } from "../profiles";
import type { ParsedKeys } from "./keys";
import type { Reader } from "./reader";
import type { ChartSource, RawConfig } from "./schema";

export interface KeysToRelate {
  readonly keys: ParsedKeys;
  readonly profile: Profile;
  readonly chart?: ChartSource;
  readonly baseUrl: { readonly text?: string; readonly url?: URL };
  /** The target api tag, when one is pinned. */
  readonly apiTag?: string;
}

export function crossCheck(r: Reader, raw: RawConfig, facts: KeysToRelate): void {
  const { keys } = facts;
  checkProfile(r, facts.profile, keys);
  if (raw.registryPassword !== undefined && keys.registryUsername === undefined) {
    r.problem(
      "registryUsername",
      "is required when registryPassword is set (Artifact Registry: oauth2accesstoken; GHCR: your user)",
    );
  }
  checkChartRegistry(r, raw, facts);
  if (keys.registryInsecure && keys.protected) {
    r.problem("registryInsecure", "a protected stack checks its images over TLS only; remove registryInsecure");
  }
  const { text, url } = facts.baseUrl;
  if (url?.protocol === "http:" && keys.protected && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    r.warnings.push(`${r.key("baseUrl")}: verification of a protected stack over plain http (${text})`);
  }
  if (keys.snapshotFormat === "custom" && r.has("snapshotJobs") && keys.snapshotJobs > 1) {
    r.problem("snapshotJobs", "parallel jobs need snapshotFormat=directory (pg_dump -j only writes directories)");
  }
  checkServerSnapshot(r, facts);
  checkAcknowledgement(r, facts);
  checkPromotionOverride(r, facts);
}

/** Keys that do not apply to the application are refused; a tier is required exactly when the profile has tiers. */
function checkProfile(r: Reader, profile: Profile, keys: ParsedKeys): void {
  for (const [key, why] of Object.entries(profile.refusedKeys)) {
    if (r.has(key as keyof ParsedKeys)) r.problem(key, `does not apply to ${profile.application}: ${why}`);
  }
  if (profile.tier === "required" && keys.tier === undefined) {
    r.problem("tier", `is required; set it to one of ${TIERS.join(", ")}`);
  }
}

/** Chart-registry credentials come as a pair, secret, and only for a chart pulled from a registry. */
function checkChartRegistry(r: Reader, raw: RawConfig, facts: KeysToRelate): void {
  const username = facts.keys.chartRegistryUsername;
  const password = raw.chartRegistryPassword;
  if (password !== undefined && username === undefined) {
    r.problem(
      "chartRegistryUsername",
      "is required when chartRegistryPassword is set (GHCR: your GitHub user; Artifact Registry: oauth2accesstoken)",
    );
  }
  if (username !== undefined && password === undefined) {
    r.problem(
      "chartRegistryPassword",
      "is required when chartRegistryUsername is set; set it with `pulumi config set --secret chartRegistryPassword ...`",
    );
  }
  if ((username !== undefined || password !== undefined) && facts.chart?.kind === "local") {
    r.problem(
      username !== undefined ? "chartRegistryUsername" : "chartRegistryPassword",
      "applies only to a chart pulled from a registry (chart: oci://...); a local chart directory needs no credentials",
    );
  }
}

/** A server snapshot (`runbook snapshot --all-databases`) writes one directory-format dump per database. */
function checkServerSnapshot(r: Reader, facts: KeysToRelate): void {
  const scope = facts.keys.snapshotScope ?? facts.profile.snapshotScope;
  if (scope !== "server") return;
  if (facts.keys.snapshotFormat === "custom") {
    r.problem(
      "snapshotFormat",
      "custom cannot be used with snapshotScope server, which writes one directory-format dump per database; " +
        "remove snapshotFormat (or set snapshotScope database)",
    );
  }
  if (facts.keys.snapshotStore !== undefined) {
    r.warnings.push(
      `${r.key("snapshotStore")}: a server snapshot (snapshotScope server) is not uploaded to the store yet; it stays ` +
        `in snapshotDir: copy snapshotDir/NAME/ to ${facts.keys.snapshotStore} by hand`,
    );
  }
}

/** The version the minor-version gate compares, as the profile reads it: the api tag, or the chart version. */
function gatedVersion(facts: KeysToRelate): { label: string; version?: string } {
  return facts.profile.versionSource === "chart-version"
    ? { label: "chart version", version: facts.chart?.version }
    : { label: "api tag", version: facts.apiTag };
}

function checkAcknowledgement(r: Reader, facts: KeysToRelate): void {
  const ack = facts.keys.acknowledgeUpgrade;
  const { label, version } = gatedVersion(facts);
  if (ack !== undefined && version !== undefined && ack !== version) {
    r.warnings.push(
      `${r.key("acknowledgeUpgrade")}: acknowledges ${ack} but the target ${label} is ` +
        `${version}; it only counts for that exact target`,
    );
  }
}

/** promotionOverride and its reason come together, name this exact target, and only mean something with promoteFrom. */
function checkPromotionOverride(r: Reader, facts: KeysToRelate): void {
  const { promotionOverride: override, promotionOverrideReason: reason, promoteFrom } = facts.keys;
  const chartVersion = facts.chart?.version;
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
  const names = [facts.apiTag, chartVersion].filter((n): n is string => n !== undefined);
  if (names.length > 0 && !names.includes(override)) {
    r.problem(
      "promotionOverride",
      `names ${override}, but the target is api ${facts.apiTag ?? "(none)"}, chart ${chartVersion ?? "(none)"}; ` +
        "an override counts only for that exact target: set it to the target's api tag or chart version, or remove it",
    );
  }
  if (promoteFrom === undefined) {
    r.warnings.push(`${r.key("promotionOverride")}: has no effect without promoteFrom; remove it`);
  }
}
