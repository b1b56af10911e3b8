import assert from "node:assert/strict";
import { helmTemplateArgs } from "../../src/lib/diff/helm-template";

describe("helm template's argv", () => {
  const request = {
    release: "alexandria-ee",
    namespace: "alexandria",
    valuesFiles: ["chart/values.yaml", "chart/values-enterprise.yaml", "deploy/site.yaml"],
    values: { auth: { password: "inline-secret-31f" } },
    isUpgrade: true,
  };

  it("layers the values files in order, then the inline values file, hooks and CRDs included", () => {
    const args = helmTemplateArgs(
      { ...request, chart: { kind: "local", path: "chart", version: "1.4.0" } },
      "/tmp/x/inline.yaml",
    );
    assert.deepEqual(args, [
      "template",
      "alexandria-ee",
      "chart",
      "--namespace",
      "alexandria",
      "--version",
      "1.4.0",
      "--values",
      "chart/values.yaml",
      "--values",
      "chart/values-enterprise.yaml",
      "--values",
      "deploy/site.yaml",
      "--values",
      "/tmp/x/inline.yaml",
      "--include-crds",
      "--is-upgrade",
    ]);
    assert.ok(!args.join(" ").includes("inline-secret-31f"), "inline values reach helm through a file only");
  });

  it("names a repository chart's repository; a first install is not an upgrade", () => {
    const args = helmTemplateArgs(
      {
        ...request,
        isUpgrade: false,
        chart: {
          kind: "repository",
          chart: "alexandria-ee",
          repository: "https://charts.example.com",
          version: "1.5.0",
        },
      },
      "/tmp/x/inline.yaml",
    );
    assert.deepEqual(args.slice(2, 9), [
      "alexandria-ee",
      "--namespace",
      "alexandria",
      "--version",
      "1.5.0",
      "--repo",
      "https://charts.example.com",
    ]);
    assert.ok(!args.includes("--is-upgrade"));
  });
});
