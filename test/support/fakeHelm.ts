/** A stand-in `helm` for the tests of what a failed verification does next. */
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./postgres";

/** A `helm` that records its argv and, as a real rollback would, makes the application ready again. */
export function fakeHelm(): { dir: string; calls: () => string[][] } {
  const dir = tempDir("fake-helm-");
  const log = path.join(dir, "calls.jsonl");
  fs.writeFileSync(
    path.join(dir, "helm"),
    `#!${process.execPath}
require("fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");
fetch(process.env.HELM_TEST_FIXTURE_URL + "/__fixture/mode", {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ readyNever: false }),
}).then((r) => { process.exitCode = r.ok ? 0 : 1; });
`,
    { mode: 0o755 },
  );
  return {
    dir,
    calls: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as string[])
        : [],
  };
}
