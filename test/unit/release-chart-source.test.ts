import * as assert from "assert";
import { releaseInputs, TieredReleaseArgs } from "../../components/tieredRelease";

const OCI = "oci://ghcr.io/emergenceai/charts/em-runtime";

function args(extra: Partial<TieredReleaseArgs> = {}): TieredReleaseArgs {
  return {
    namespace: "em-runtime",
    releaseName: "em-runtime",
    chart: { kind: "repository", chart: OCI, version: "4.8.6" },
    valuesFiles: [],
    imageTags: {},
    tier: "starter",
    ...extra,
  } as TieredReleaseArgs;
}

describe("the chart the Release installs from", () => {
  it("an oci:// chart the program pulled: the archive, the version still pinned, no credentials for the provider", () => {
    const inputs = releaseInputs(
      args({ chartArchive: ".release-runbook/charts/ghcr.io/emergenceai/charts/em-runtime-4.8.6.tgz" }),
    );
    assert.strictEqual(inputs.chart, ".release-runbook/charts/ghcr.io/emergenceai/charts/em-runtime-4.8.6.tgz");
    assert.strictEqual(inputs.version, "4.8.6");
    // The provider ignores repositoryOpts credentials for oci:// charts; none are handed to it (nor to its state).
    assert.strictEqual(inputs.repositoryOpts, undefined);
  });

  it("an oci:// chart the program did not pull: the provider pulls it itself", () => {
    const inputs = releaseInputs(args());
    assert.strictEqual(inputs.chart, OCI);
    assert.strictEqual(inputs.version, "4.8.6");
  });
});
