import { loadConfig } from "./components/config";
import { targetVersions, UpgradePipeline } from "./components/upgradePipeline";

const config = loadConfig(__dirname);
const pipeline = new UpgradePipeline(config.releaseName, { config });

export const releaseRevision = pipeline.release.revision;
export const releaseStatus = pipeline.release.status;
export const chartVersion = pipeline.release.chartVersion;
export const imageTags = config.imageTags;
export const targets = targetVersions(config);
export const preflight = pipeline.preflight.facts;
export const snapshotPath = pipeline.snapshot.path;
export const snapshotSha256 = pipeline.snapshot.sha256;
export const verification = pipeline.verification.summary;
