import { pullReleaseChart } from "./components/chartPull";
import { loadConfig } from "./components/config";
import { observeLiveRelease } from "./components/liveRelease";
import { gatePromotion, verifiedTargetsOutput } from "./components/promotion";
import { targetVersions, UpgradePipeline } from "./components/upgradePipeline";

// Async so that the live release is read before anything is registered: every guard is keyed to it. A
// target the lower stack (promoteFrom) has not verified is refused before the pipeline exists, and an oci://
// chart whose registry refuses the credentials before anything else runs.
export = async () => {
  const config = loadConfig(__dirname);
  const promotion = await gatePromotion(config);
  const chartArchive = await pullReleaseChart(config, __dirname);
  const observation = await observeLiveRelease(config, __dirname);
  const pipeline = new UpgradePipeline(config.releaseName, {
    config,
    observation,
    ...(chartArchive === undefined ? {} : { chartArchive }),
  });
  return {
    releaseRevision: pipeline.release.revision,
    releaseStatus: pipeline.release.status,
    chartVersion: pipeline.release.chartVersion,
    imageTags: config.imageTags,
    targets: targetVersions(config),
    liveRelease: observation.guard.liveRelease,
    liveSchemaVersion: observation.liveSchemaVersion,
    renderedChanges: observation.renderedChanges ?? "none",
    preflight: pipeline.preflight.facts,
    snapshotPath: pipeline.snapshot.path,
    snapshotSha256: pipeline.snapshot.sha256,
    verification: pipeline.verification.summary,
    verifiedTargets: verifiedTargetsOutput(config, pipeline),
    promotion,
  };
};
