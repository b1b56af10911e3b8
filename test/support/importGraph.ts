/**
 * The program's import graph as TypeScript's own pre-processor sees it: every relative `import`, `export
 * ... from`, `import()` and `require()` of a file, resolved to the file it names. Package imports are left
 * out: only the project's own files can form a cycle or break the layering.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

/** Repository-relative path (with `/`) → the repository-relative paths it imports. */
export type ImportGraph = Map<string, string[]>;

const EXTENSIONS = [".ts", ".tsx", ".d.ts", "/index.ts", "/index.tsx"];

function sourceFiles(root: string, entry: string): string[] {
  const full = path.join(root, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return /\.tsx?$/.test(entry) ? [entry] : [];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .flatMap((d) => sourceFiles(root, path.posix.join(entry, d.name)))
    .sort();
}

/** The file a relative specifier names, as Node's resolution with TypeScript's extensions finds it. */
function resolveSpecifier(root: string, from: string, specifier: string): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), specifier);
  const candidates = [base, ...EXTENSIONS.map((ext) => base + ext)];
  // `./x.js` in TypeScript source means `./x.ts`
  if (/\.js$/.test(base)) candidates.push(base.replace(/\.js$/, ".ts"));
  return candidates.find((c) => fs.existsSync(path.join(root, c)) && fs.statSync(path.join(root, c)).isFile());
}

/** The import graph of the given files and directories (repository-relative), and only of them. */
export function buildImportGraph(root: string, entries: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of entries.flatMap((e) => sourceFiles(root, e))) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    const imported = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((f) => f.fileName)
      .filter((spec) => spec.startsWith("./") || spec.startsWith("../"))
      .map((spec) => {
        const target = resolveSpecifier(root, file, spec);
        if (target === undefined) throw new Error(`${file}: cannot resolve import ${JSON.stringify(spec)}`);
        return target;
      });
    graph.set(file, [...new Set(imported)]);
  }
  return graph;
}

/**
 * Every cycle a depth-first walk meets, each as the files in import order with the first repeated at the
 * end (`a.ts → b.ts → a.ts`). Empty when the graph has none.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}
