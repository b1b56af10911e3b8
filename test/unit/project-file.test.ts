import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_KEYS, ConfigKey, declaredDefault, factsOf, SECRET_KEYS } from "../../src/lib/config/keys";
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

  it("declares exactly the keys the schema declares (src/lib/config/keys.ts), each with a description", () => {
    assert.deepStrictEqual(Object.keys(project.config).sort(), [...CONFIG_KEYS].sort());
    for (const [key, declared] of Object.entries(project.config)) {
      assert.ok(declared.description && declared.description.length > 10, `${key} has no description`);
    }
  });

  it("marks exactly the schema's secrets as secret", () => {
    const secret = Object.entries(project.config)
      .filter(([, d]) => d.secret === true)
      .map(([k]) => k)
      .sort();
    assert.deepStrictEqual(secret, [...SECRET_KEYS].sort());
  });

  it("declares the schema's default for every key that has one, typed as the schema parses it", () => {
    for (const key of CONFIG_KEYS) {
      const fallback = declaredDefault(key);
      if (fallback === undefined) continue;
      assert.strictEqual(project.config[key].default, fallback, `${key}: Pulumi.yaml's default is not the schema's`);
      const type = typeof fallback === "number" ? "integer" : typeof fallback;
      assert.strictEqual(project.config[key].type, type, `${key}: Pulumi.yaml's type is not the schema's`);
    }
  });

  it("gives every optional key without a schema default the empty value, which the schema reads as unset", () => {
    for (const key of CONFIG_KEYS) {
      if (declaredDefault(key) !== undefined || factsOf(key).required) continue;
      const json = factsOf(key).json;
      const empty = json === "object" ? {} : json === "list" ? [] : "";
      assert.deepStrictEqual(project.config[key].default, empty, `${key}: Pulumi.yaml's default is not empty`);
    }
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
    assert.deepStrictEqual(required, CONFIG_KEYS.filter((k) => factsOf(k).required).sort());
    // em-runtime sets neither a tier nor image tags: Pulumi must not require them of every stack.
    assert.deepStrictEqual(required, ["baseUrl", "chart", "namespace"]);
  });

  it("secrets are untyped, since Pulumi injects a typed default as plain text and then refuses it", () => {
    const project = YAML.parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
      config: Record<string, Declared>;
    };
    for (const key of SECRET_KEYS) assert.strictEqual(project.config[key].type, undefined, key);
  });
});

/** README's config table: `| key(s) | default | meaning |`, the keys in backticks, a secret marked "(secret)". */
function readmeConfigTable(): Map<string, { secret: boolean; default: string }> {
  const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Config reference"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| key |")));
  const rows = new Map<string, { secret: boolean; default: string }>();
  for (const line of table.split("\n").filter((l) => /^\| `/.test(l))) {
    const [keys, fallback] = line.split(" | ").map((c) => c.replace(/^\| /, ""));
    for (const m of keys.matchAll(/`(\w+)`( \(secret\))?/g)) {
      rows.set(m[1], { secret: m[2] !== undefined, default: fallback });
    }
  }
  return rows;
}

describe("README's config reference", () => {
  const rows = readmeConfigTable();

  it("lists exactly the schema's keys, the secrets marked (secret)", () => {
    assert.deepStrictEqual([...rows.keys()].sort(), [...CONFIG_KEYS].sort());
    for (const [key, row] of rows) {
      assert.strictEqual(row.secret, SECRET_KEYS.includes(key as ConfigKey), `${key}: (secret) marker`);
    }
  });

  it("gives the schema's default, and says required of exactly the required keys", () => {
    for (const [key, row] of rows) {
      const fallback = declaredDefault(key as ConfigKey);
      if (fallback !== undefined) {
        assert.ok(
          row.default.includes(`\`${String(fallback)}\``),
          `${key}: README's default is not \`${String(fallback)}\``,
        );
      }
      assert.strictEqual(row.default === "required", factsOf(key as ConfigKey).required === true, `${key}: required`);
    }
  });
});
