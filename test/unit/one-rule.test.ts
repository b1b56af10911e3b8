/**
 * Release and namespace names, image tags and snapshot formats have one definition each: config validation,
 * the release component and the CLI refuse the same inputs with the same words.
 */
import * as assert from "assert";
import { ConfigError } from "../../src/lib/config/schema";
import { validateConfig } from "../../src/lib/config/validate";
import { namespaceNameProblem, releaseNameProblem } from "../../src/lib/kube/names";
import { tagProblem } from "../../src/lib/release/image-tags";
import { preflightCommand } from "../../src/cli/commands/preflight";
import { snapshotCommand } from "../../src/cli/commands/snapshot";
import { TieredRelease } from "../../components/tieredRelease";
import { SNAPSHOT_FORMATS } from "../../src/lib/snapshot/layout";
import { PROJECT_DIR, rawConfig, validRawValues } from "../support/stackConfig";

function configProblems(values: Record<string, unknown>): string {
  try {
    validateConfig(rawConfig(validRawValues(values)), {
      project: "release-runbook",
      stack: "unit",
      projectDir: PROJECT_DIR,
    });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.join("\n");
  }
  return "";
}

function componentError(args: { releaseName?: string; namespace?: string; tag?: string }): string {
  try {
    new TieredRelease("r", {
      namespace: args.namespace ?? "alexandria",
      releaseName: args.releaseName ?? "alexandria-ee",
      chart: { kind: "repository", chart: "oci://registry.example/charts/a", version: "1.0.0" },
      tier: "starter",
      valuesFiles: ["values.yaml"],
      imageTags: { api: args.tag ?? "v1.2.3" },
    });
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

async function cliUsageError(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

describe("one definition of each naming and pinning rule", () => {
  const badRelease = "Alexandria_EE";
  const badNamespace = "Alexandria";

  it("a release name: config, the release component and the CLI say the same", async () => {
    const rule = releaseNameProblem(badRelease) as string;
    assert.ok(rule);
    assert.ok(configProblems({ releaseName: badRelease }).includes(rule));
    assert.ok(componentError({ releaseName: badRelease }).includes(rule));
    const cli = await cliUsageError(() =>
      preflightCommand.run(
        { release: badRelease, namespace: "alexandria", image: ["api=registry.example/a/api:v1.2.3"] },
        {},
      ),
    );
    assert.ok(cli.includes(rule), cli);
    // Helm allows dots in release names; so does every caller.
    assert.strictEqual(configProblems({ releaseName: "alexandria.blue" }), "");
  });

  it("a namespace name: config, the release component and the CLI say the same", async () => {
    const rule = namespaceNameProblem(badNamespace) as string;
    assert.ok(configProblems({ namespace: badNamespace }).includes(rule));
    assert.ok(componentError({ namespace: badNamespace }).includes(rule));
    const cli = await cliUsageError(() =>
      snapshotCommand.run(
        { "out-dir": "/tmp/x", "kube-secrets": "a", "kube-namespace": badNamespace },
        { PG_DSN: "postgres://u@127.0.0.1/db" },
      ),
    );
    assert.ok(cli.includes(rule), cli);
  });

  it("an image tag: config and the release component refuse latest with the same words", () => {
    const rule = tagProblem("latest", { protectedStack: false }) as string;
    assert.ok(
      configProblems({ imageTags: { api: "latest", orchestrator: "v1.2.3", dashboard: "v1.2.3" } }).includes(rule),
    );
    assert.ok(componentError({ tag: "latest" }).includes(rule));
  });

  it("snapshot formats: config offers exactly the formats the snapshot library writes", () => {
    for (const format of SNAPSHOT_FORMATS) assert.strictEqual(configProblems({ snapshotFormat: format }), "");
    assert.match(configProblems({ snapshotFormat: "tar" }), new RegExp(SNAPSHOT_FORMATS.join(", ")));
  });
});
