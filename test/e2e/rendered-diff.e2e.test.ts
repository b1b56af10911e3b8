/**
 * What Helm will change, rendered, with the real engine against the sandbox: the preview names the changed
 * objects and images, a chart change that adds a ConfigMap shows it, a Secret's change is masked, and the
 * rendered objects are what the release then installs (runbook diff after the up finds nothing to change).
 */
import * as assert from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  firstInstallStack,
  image,
  makeProjectCopy,
  NAMESPACE,
  RELEASE,
  removeProjectCopy,
  runbook,
  setFixtureMode,
  setTags,
  up,
} from "./support/project";

const CHART = "test/fixtures/charts/alexandria-ee";

describe("e2e: what Helm will change, rendered, in preview", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let stack: Stack;

  /** `runbook diff` with the inputs the stack's Release gets: base and tier values, then the pinned tags. */
  const diffOf = (tag: string, siteValues: Record<string, unknown> = {}) =>
    runbook(project, [
      "diff",
      "--release",
      RELEASE,
      "--namespace",
      NAMESPACE,
      "--chart",
      CHART,
      "--chart-version",
      "1.4.0",
      "--values",
      `${CHART}/values.yaml`,
      "--values",
      `${CHART}/values-starter.yaml`,
      "--set-json",
      JSON.stringify({ ...siteValues, image: { api: { tag }, orchestrator: { tag }, dashboard: { tag } } }),
      "--json",
    ]);

  before(async () => {
    ({ project, stack } = await firstInstallStack("e2e-rendered-diff", "v1.4.0"));
    assert.ifError((await up(stack)).error);
    await setFixtureMode({ adminExists: true });
  });

  it("the rendered objects are what the release installed: runbook diff after the up finds no change", () => {
    const diff = diffOf("v1.4.0");
    assert.strictEqual(diff.status, 0, diff.stdout + diff.stderr);
    assert.strictEqual(diff.json.changed, false, diff.stdout);
  });

  it("the preview of a tag change names the changed Deployments and the api image", async () => {
    await setTags(stack, "v1.4.1");
    try {
      const preview = await stack.preview({ color: "never" });
      assert.match(preview.stdout, /Deployment: 3 changed/);
      assert.match(
        preview.stdout,
        new RegExp(`api: ${image("api", "v1.4.0")} → ${image("api", "v1.4.1")}`.replace(/\./g, "\\.")),
      );
    } finally {
      await setTags(stack, "v1.4.0");
    }
  });

  it("the preview of a chart change that adds a ConfigMap shows the ConfigMap", async () => {
    // The next chart version: the same chart at 1.4.1, whose values switch a ConfigMap on.
    const next = path.join(project.dir, "test", "fixtures", "charts", "alexandria-ee-next");
    fs.cpSync(path.join(project.dir, CHART), next, { recursive: true });
    fs.writeFileSync(
      path.join(next, "Chart.yaml"),
      fs.readFileSync(path.join(next, "Chart.yaml"), "utf8").replace(/^version: .*$/m, "version: 1.4.1"),
    );
    const values = fs.readFileSync(path.join(next, "values.yaml"), "utf8");
    const switchedOn = values.replace(
      /^(siteConfig:\n(?:\s*#.*\n)*)\s*enabled: false\n\s*data: \{\}/m,
      "$1  enabled: true\n  data:\n    region: eu",
    );
    assert.notStrictEqual(switchedOn, values, "the test chart's siteConfig block was not found");
    fs.writeFileSync(path.join(next, "values.yaml"), switchedOn);
    await stack.setConfig("chart", { value: "test/fixtures/charts/alexandria-ee-next" });
    try {
      const preview = await stack.preview({ color: "never" });
      assert.match(preview.stdout, /ConfigMap: 1 added/);
    } finally {
      await stack.setConfig("chart", { value: CHART });
    }
  });

  it("a Secret's change is shown masked, never its value", async () => {
    const secretValues = (token: string) => ({ siteSecret: { enabled: true, values: { token } } });
    await stack.setConfig("siteValues", { value: JSON.stringify(secretValues("first-token-value")) });
    assert.ifError((await up(stack)).error);
    await stack.setConfig("siteValues", { value: JSON.stringify(secretValues("second-token-value")) });
    const preview = await stack.preview({ color: "never" });
    assert.match(preview.stdout, /Secret: 1 changed/);
    const diff = diffOf("v1.4.0", secretValues("second-token-value"));
    assert.strictEqual(diff.status, 0, diff.stdout + diff.stderr);
    assert.match(diff.stdout, /\*\*\* \(changed\)/);
    for (const value of ["first-token-value", "second-token-value"]) {
      for (const form of [value, Buffer.from(value).toString("base64")]) {
        assert.ok(!diff.stdout.includes(form), `${form} in the diff`);
        assert.ok(
          !preview.stdout.split("\n").some((l) => /Secret|token:/.test(l) && l.includes(form)),
          `${form} in the rendered summary`,
        );
      }
    }
  });

  after(() => removeProjectCopy(project));
});
