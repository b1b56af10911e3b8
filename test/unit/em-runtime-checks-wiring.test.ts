/**
 * The pipeline passes the application profile's facts to `runbook preflight` and `runbook verify`: em-runtime
 * gets every pod of the namespace, the database pods, its health path before the upgrade, base-url in
 * em-runtime-secrets, and its components' logs; Alexandria EE none of them. Every flag the components write is
 * one the CLI takes.
 */
import * as assert from "assert";
import { installMocks, promiseOf, RecordedResource } from "../support/pulumiMocks";
import { emRuntimeRawValues, PROJECT_DIR, rawConfig, validRawValues } from "../support/stackConfig";
import { preflightCommand } from "../../src/cli/commands/preflight";
import { verifyCommand } from "../../src/cli/commands/verify";
import type { CliCommand } from "../../src/cli/command";
import { hasNoLogSource, logComponentsFor, verifyInvocation } from "../../components/verification";
import { EM_RUNTIME } from "../../src/lib/profiles";

const recorded: RecordedResource[] = installMocks();

async function registered(name: string, values: Record<string, unknown>): Promise<RecordedResource[]> {
  const { UpgradePipeline } = await import("../../components/upgradePipeline");
  const { validateConfig } = await import("../../src/lib/config/validate");
  const { config } = validateConfig(rawConfig(values), {
    project: "release-runbook",
    stack: "unit",
    projectDir: PROJECT_DIR,
  });
  const pipeline = new UpgradePipeline(name, { config });
  await promiseOf(pipeline.verification.summary);
  return recorded.filter((r) => r.name.startsWith(`${name}-`));
}

function command(
  resources: RecordedResource[],
  suffix: string,
): { create: string; environment: Record<string, string> } {
  const found = resources.filter((r) => r.type === "command:local:Command" && r.name.endsWith(suffix));
  assert.strictEqual(found.length, 1, `expected one command *${suffix}, got ${resources.map((r) => r.name)}`);
  return { create: String(found[0]!.inputs.create), environment: found[0]!.inputs.environment ?? {} };
}

/** Every `--flag` of the command line is an option of the CLI command (or the dispatcher's --json). */
function assertFlagsKnown(create: string, cli: CliCommand): void {
  for (const [, flag] of create.matchAll(/--([a-z][a-z0-9-]*)/g)) {
    assert.ok(flag === "json" || flag! in cli.options, `--${flag} is not an option of runbook ${cli.name}`);
  }
}

describe("em-runtime's checks wired from its profile", () => {
  it("preflight: --all-pods, the database pods, the health path over baseUrl, base-url in em-runtime-secrets", async () => {
    const resources = await registered("em-checks-pre", emRuntimeRawValues());
    const preflight = command(resources, "-preflight-preflight");
    assert.match(preflight.create, / --all-pods /);
    assert.strictEqual(
      preflight.environment.RUNBOOK_ARG_INFRASTRUCTURE_SELECTOR,
      "app.kubernetes.io/component=database",
    );
    assert.strictEqual(preflight.environment.RUNBOOK_ARG_BASE_URL, "https://em-dev.acme.example");
    assert.strictEqual(preflight.environment.RUNBOOK_ARG_HEALTH_PATH, "/api/governance/health");
    assert.strictEqual(preflight.environment.RUNBOOK_ARG_BASE_URL_SECRET, "em-runtime-secrets/base-url");
    assertFlagsKnown(preflight.create, preflightCommand);
  });

  it("verification: the health path and the governance, assets and utils Deployments' logs", async () => {
    const resources = await registered("em-checks-verify", emRuntimeRawValues());
    const verify = command(resources, "-verification-verify");
    assert.strictEqual(verify.environment.RUNBOOK_ARG_HEALTH_PATH, "/api/governance/health");
    assert.strictEqual(verify.environment.RUNBOOK_ARG_LOG_COMPONENTS, "governance,assets,utils");
    assert.strictEqual(verify.environment.RUNBOOK_ARG_NAMESPACE, "em");
    assertFlagsKnown(verify.create, verifyCommand);
  });

  it("verification with logLines 0 reads no logs: the components' checks are there, to say skipped", async () => {
    const resources = await registered("em-checks-nologs", emRuntimeRawValues({ logLines: "0" }));
    const verify = command(resources, "-verification-verify");
    assert.strictEqual(verify.environment.RUNBOOK_ARG_LOG_COMPONENTS, "governance,assets,utils");
    assert.ok(!verify.create.includes("--namespace"), verify.create);
  });

  it("Alexandria EE: none of em-runtime's checks, and the api container's logs", async () => {
    const resources = await registered("alex-checks", validRawValues());
    const preflight = command(resources, "-preflight-preflight");
    for (const flag of [
      "--all-pods",
      "--infrastructure-selector",
      "--health-path",
      "--base-url-secret",
      "--base-url",
    ]) {
      assert.ok(!preflight.create.includes(flag), `${flag} in ${preflight.create}`);
    }
    const verify = command(resources, "-verification-verify");
    assert.ok(!verify.create.includes("--log-components"), verify.create);
    assertFlagsKnown(preflight.create, preflightCommand);
    assertFlagsKnown(verify.create, verifyCommand);
  });

  it("a profile with no log source asks verify for --no-logs, never the api container's by default", () => {
    const profile = { ...EM_RUNTIME, logSources: [] };
    assert.strictEqual(logComponentsFor(profile), undefined);
    assert.strictEqual(hasNoLogSource(profile), true);
    const invocation = verifyInvocation(
      {
        baseUrl: "https://em.example",
        firstInstall: false,
        releaseRevision: 2,
        namespace: "em",
        releaseName: "em-runtime",
        healthPath: "/api/governance/health",
        noLogSource: hasNoLogSource(profile),
      },
      false,
      2,
    );
    assert.match(invocation.create, / --no-logs --json$/);
    assertFlagsKnown(invocation.create, verifyCommand);
    assert.strictEqual(hasNoLogSource(EM_RUNTIME), false);
  });
});
