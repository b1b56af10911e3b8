/**
 * The minor-version gate on the chart version (em-runtime's profile), read from the live release's Helm
 * record through a fake Kubernetes API: no api component is needed for it to apply.
 */
import * as assert from "assert";
import { helmReleaseSecrets, secretWith } from "../fixtures/alexandria-api/cluster-objects";
import { FakeKubeApi, startFakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { encodeHelmReleaseRecord } from "../../src/lib/kube/helm-release-record";
import { runPreflight } from "../../src/lib/preflight/preflight";

const NS = "/api/v1/namespaces/em";

function releaseRecord(revision: number, chartVersion: string): unknown {
  return {
    name: "em-runtime",
    namespace: "em",
    version: revision,
    info: { status: "deployed", description: "Upgrade complete" },
    chart: { metadata: { name: "em-runtime", version: chartVersion } },
    config: {},
    manifest: "",
  };
}

describe("preflight's minor-version gate on the chart version (fake cluster)", () => {
  let cluster: FakeKubeApi;
  before(async () => {
    cluster = await startFakeKubeApi({
      [`${NS}/secrets`]: helmReleaseSecrets("em-runtime", [
        { revision: 2, status: "superseded" },
        { revision: 3, status: "deployed" },
      ]),
      [`${NS}/secrets/sh.helm.release.v1.em-runtime.v3`]: secretWith("sh.helm.release.v1.em-runtime.v3", {
        release: encodeHelmReleaseRecord(releaseRecord(3, "4.8.6")),
      }),
      [`${NS}/pods`]: { apiVersion: "v1", kind: "PodList", items: [] },
    });
  });
  after(() => cluster.close());

  async function gate(target: string, acknowledge?: string) {
    const report = await runPreflight({
      images: [],
      registry: { credentials: {} },
      cluster: { target: { namespace: "em" }, release: "em-runtime" },
      protectedStack: true,
      gateChartVersion: target,
      destructive: false,
      ...(acknowledge === undefined ? {} : { acknowledge }),
      env: cluster.env(process.env),
    });
    const found = report.checks.find((c) => c.name === "minor-version-gate");
    assert.ok(found, JSON.stringify(report.checks));
    return found;
  }

  it("refuses a minor chart bump of a protected stack until that chart version is acknowledged", async () => {
    const refused = await gate("4.9.0");
    assert.strictEqual(refused.ok, false, refused.detail);
    assert.match(refused.detail, /chart 4\.8\.6 → 4\.9\.0 crosses a minor version/);
    const acknowledged = await gate("4.9.0", "4.9.0");
    assert.strictEqual(acknowledged.ok, true, acknowledged.detail);
  });

  it("lets a patch chart bump through", async () => {
    const patch = await gate("4.8.7");
    assert.strictEqual(patch.ok, true, patch.detail);
    assert.match(patch.detail, /chart 4\.8\.6 → 4\.8\.7 stays within one minor version/);
  });
});
