import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { RawConfig } from "../../src/lib/config/schema";
import { PROJECT_DIR } from "../support/stackConfig";

interface Declared {
  type?: string;
  description?: string;
  default?: unknown;
  secret?: boolean;
}

describe("Pulumi.yaml", () => {
  const project = YAML.parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"), { strict: true }) as {
    name: string;
    runtime: { name: string; options?: { typescript?: boolean; tsconfig?: string } };
    config: Record<string, Declared>;
  };

  it("is the release-runbook nodejs project", () => {
    assert.strictEqual(project.name, "release-runbook");
    assert.strictEqual(project.runtime.name, "nodejs");
  });

  it("compiles the program transpile-only, leaving type-checking to npm run typecheck (run by .ci/run)", () => {
    const tsconfig = project.runtime.options?.tsconfig;
    assert.ok(tsconfig, "runtime.options.tsconfig is not set, so every up type-checks index.ts with ts-node");
    // The Node.js runtime reads noCheck from this file's own compilerOptions, not through `extends`.
    const own = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, tsconfig), "utf8")) as {
      compilerOptions?: { noCheck?: boolean };
    };
    assert.strictEqual(own.compilerOptions?.noCheck, true);
    assert.match(fs.readFileSync(path.join(PROJECT_DIR, ".ci", "run"), "utf8"), /^npm run typecheck$/m);
  });

  it("declares exactly the keys the program reads, each with a description", () => {
    assert.deepStrictEqual(Object.keys(project.config).sort(), [...RawConfig.keys].sort());
    for (const [key, declared] of Object.entries(project.config)) {
      assert.ok(declared.description && declared.description.length > 10, `${key} has no description`);
    }
  });

  it("marks the secrets as secret", () => {
    for (const key of RawConfig.secretKeys) assert.strictEqual(project.config[key].secret, true, key);
  });

  it("declares defaults of the declared type", () => {
    for (const [key, d] of Object.entries(project.config)) {
      if (d.default === undefined || d.type === undefined) continue;
      const expected = d.type === "integer" ? "number" : d.type;
      assert.strictEqual(typeof d.default, expected, `${key}: default ${JSON.stringify(d.default)} is not ${d.type}`);
    }
  });
});

describe("Pulumi.yaml's required keys", () => {
  it("only the keys every stack must set lack a default (Pulumi refuses a stack missing any other)", () => {
    const project = YAML.parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
      config: Record<string, Declared>;
    };
    const required = Object.entries(project.config)
      .filter(([, d]) => d.default === undefined)
      .map(([k]) => k)
      .sort();
    assert.deepStrictEqual(required, ["baseUrl", "chart", "imageTags", "namespace", "tier"]);
  });

  it("secrets are untyped, since Pulumi injects a typed default as plain text and then refuses it", () => {
    const project = YAML.parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
      config: Record<string, Declared>;
    };
    for (const key of RawConfig.secretKeys) assert.strictEqual(project.config[key].type, undefined, key);
  });
});
