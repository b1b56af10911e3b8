import * as path from "path";
import * as fs from "fs";
import * as YAML from "yaml";
import type { RawConfig } from "../../src/lib/config/schema";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");
export const FIXTURE_CHART = "test/fixtures/charts/alexandria-ee";

/** A complete, valid raw config for the fixture chart; tests override single keys. */
export function validRawValues(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespace: "alexandria",
    releaseName: "alexandria-ee",
    chart: FIXTURE_CHART,
    tier: "enterprise",
    imageTags: { api: "v1.4.0", orchestrator: "v1.4.0", dashboard: "v1.4.0" },
    baseUrl: "http://127.0.0.1:18080",
    dsnSecret: "alexandria-db/dsn",
    ...overrides,
  };
}

export function rawConfig(values: Record<string, unknown>, extra: Partial<RawConfig> = {}): RawConfig {
  return { values, parseErrors: [], ...extra };
}

/** The `release-runbook:*` values of a committed stack file, as `pulumi config` hands them to the program. */
export function stackFileValues(stack: string): Record<string, unknown> {
  const doc = YAML.parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc.config)) {
    const [project, name] = key.split(":");
    if (project === "release-runbook") values[name] = typeof value === "object" ? value : String(value);
  }
  return values;
}

/** A complete, valid raw config of em-runtime as its guide runs it: an OCI chart at a pinned version, one values file. */
export function emRuntimeRawValues(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    application: "em-runtime",
    namespace: "em",
    chart: "oci://ghcr.io/emergenceai/charts/em-runtime",
    chartVersion: "4.8.6",
    baseValuesFile: "deploy/em-dev/values.yaml",
    baseUrl: "https://em-dev.acme.example",
    dsnSecret: "em-runtime-db/dsn",
    ...overrides,
  };
}

/** The stacks committed as `Pulumi.<stack>.yaml`. */
export function committedStacks(): string[] {
  return fs
    .readdirSync(PROJECT_DIR)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * The values the engine hands the program for a committed stack: Pulumi.yaml's default of every key the stack
 * file does not set (secrets aside: they come as Outputs), then the stack file's own.
 */
export function engineValues(stack: string): Record<string, unknown> {
  const project = YAML.parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default?: unknown; secret?: boolean }>;
  };
  const values: Record<string, unknown> = {};
  for (const [key, declared] of Object.entries(project.config)) {
    if (declared.default === undefined || declared.secret === true) continue;
    values[key] = typeof declared.default === "object" ? declared.default : String(declared.default);
  }
  return { ...values, ...stackFileValues(stack) };
}
