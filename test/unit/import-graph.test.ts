import assert from "node:assert/strict";
import path from "node:path";
import { buildImportGraph, findCycles, ImportGraph } from "../support/importGraph";

const ROOT = path.resolve(__dirname, "..", "..");

describe("import graph of the program and the runbook CLI", () => {
  const graph = buildImportGraph(ROOT, ["index.ts", "components", "src"]);

  it("reads the program's files", () => {
    assert.ok(graph.has("index.ts"));
    assert.ok(graph.has("src/cli/main.ts"));
    assert.ok([...graph.keys()].some((f) => f.startsWith("components/")));
  });

  it("has no cycle", () => {
    const cycles = findCycles(graph);
    assert.deepEqual(
      cycles.map((c) => c.join(" → ")),
      [],
      `import cycles (a module can run before what it imports has finished loading):\n${cycles.map((c) => `  ${c.join(" → ")}`).join("\n")}`,
    );
  });

  // The same rule as eslint.config.mjs's no-restricted-imports, on resolved files, so that a path the
  // lint patterns do not spell out (or a disabled rule) cannot slip through.
  it("has nothing under src/lib importing src/cli or components", () => {
    const upward = [...graph].flatMap(([file, imports]) =>
      file.startsWith("src/lib/")
        ? imports.filter((t) => t.startsWith("src/cli/") || t.startsWith("components/")).map((t) => `${file} → ${t}`)
        : [],
    );
    assert.deepEqual(upward, [], `src/lib must not depend on the CLI or the components:\n  ${upward.join("\n  ")}`);
  });
});

describe("findCycles", () => {
  const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it("names the files of a cycle in import order", () => {
    assert.deepEqual(findCycles(graphOf({ "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": ["a.ts"], "d.ts": ["a.ts"] })), [
      ["a.ts", "b.ts", "c.ts", "a.ts"],
    ]);
  });

  it("finds a file that imports itself", () => {
    assert.deepEqual(findCycles(graphOf({ "a.ts": ["a.ts"] })), [["a.ts", "a.ts"]]);
  });

  it("finds none in a graph where two files import a third", () => {
    assert.deepEqual(findCycles(graphOf({ "a.ts": ["c.ts"], "b.ts": ["c.ts"], "c.ts": [] })), []);
  });
});
