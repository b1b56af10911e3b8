// The stand-in `command` (1.2.1) and `random` (4.21.2) resource plugins of test/e2e/toolchain/standin-providers,
// exercised through the real engine with the Automation API. They stand in for the real Go providers, which the
// Go module proxy reachable here does not serve (see test/e2e/toolchain/README.md); these tests pin down the
// behaviour of the real providers that the release-runbook program relies on, so that a stand-in that drifts
// from it fails here rather than making the pipeline tests pass for the wrong reason.
// Needs only the toolchain (pulumi on PATH, PULUMI_HOME with the plugins), not the Kubernetes/Postgres sandbox;
// without it the suite fails (never skips) with the command that fixes it.
import * as assert from "assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

const REPO = path.resolve(__dirname, "..", "..");
const PLUGINS = { command: "1.2.1", random: "4.21.2" };
const FAILING = "echo out-line; echo err-line >&2; exit 7";

function requireToolchain(): void {
  const fix =
    "build and load the toolchain: `bash test/e2e/toolchain/build.sh pulumi standin-providers` then " +
    "`source ~/.cache/release-runbook/toolchain/env.sh` (or run the suite with `bash test/e2e/run.sh`)";
  assert.ok(process.env.PULUMI_HOME, `PULUMI_HOME is not set: ${fix}`);
  for (const [name, version] of Object.entries(PLUGINS)) {
    const bin = path.join(
      process.env.PULUMI_HOME!,
      "plugins",
      `resource-${name}-v${version}`,
      `pulumi-resource-${name}`,
    );
    assert.ok(fs.existsSync(bin), `resource plugin ${name} ${version} is not installed (${bin} missing): ${fix}`);
  }
  const onPath = (process.env.PATH ?? "").split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, "pulumi")));
  assert.ok(onPath, `no pulumi on PATH: ${fix}`);
}

const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";

const cfg = new pulumi.Config();
const fx = cfg.require("fxDir");

const id = new random.RandomId("rid", { byteLength: 8, keepers: { k: cfg.get("keeper") ?? "1" }, prefix: cfg.get("prefix") });

// Values travel in the environment: the shell must see the text, not run it.
const literal = new command.local.Command("literal", {
  create: 'echo "$X"; echo to-stderr >&2; echo run >> ' + fx + "/literal.log",
  environment: { X: "a$(touch " + fx + "/pwned)", TOKEN: pulumi.secret("s3cr3t") },
});

// No update command: an input change runs create again, with the previous stdout in PULUMI_COMMAND_STDOUT.
const rerun = new command.local.Command("rerun", {
  create: 'echo "v=$V prev=[$PULUMI_COMMAND_STDOUT]"; echo "$V" >> ' + fx + "/rerun.log",
  delete: 'echo "$PULUMI_COMMAND_STDOUT" >> ' + fx + "/rerun-deleted.log",
  environment: { V: cfg.get("v") ?? "1" },
});

// A trigger change replaces: create of the new one, then delete of the old one.
const trig = new command.local.Command("trig", {
  create: 'echo "created $T"; echo "$T" >> ' + fx + "/trig.log",
  delete: 'echo "deleted $T" >> ' + fx + "/trig.log",
  environment: { T: cfg.get("trigger") ?? "a" },
  triggers: [cfg.get("trigger") ?? "a"],
});

// An update command runs on update instead of create.
const upd = new command.local.Command("upd", {
  create: "echo first",
  update: 'echo "updated prev=$PULUMI_COMMAND_STDOUT w=$W"',
  environment: { W: cfg.get("w") ?? "1" },
});

if (cfg.getBoolean("fail")) {
  new command.local.Command("failing", { create: ${JSON.stringify(FAILING)} });
}

export const rid = { id: id.id, hex: id.hex, b64Url: id.b64Url, b64Std: id.b64Std, dec: id.dec };
export const literalStdout = literal.stdout;
export const literalStderr = literal.stderr;
export const literalEnv = literal.environment;
export const rerunStdout = rerun.stdout;
export const trigStdout = trig.stdout;
export const trigId = trig.id;
export const updStdout = upd.stdout;
`;

const lines = (file: string): string[] =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : [];

describe("e2e: stand-in command and random plugins (real engine)", function () {
  let dir: string;
  let fx: string;
  let stack: Stack;
  const envVars: Record<string, string> = {};

  async function up(): Promise<{ outputs: Record<string, any>; changes: Record<string, number>; text: string }> {
    let text = "";
    const events: EngineEvent[] = [];
    const res = await stack.up({ onOutput: (o) => (text += o), onEvent: (e) => events.push(e), color: "never" });
    const outputs = Object.fromEntries(Object.entries(res.outputs).map(([k, v]) => [k, v.value]));
    return { outputs, changes: (res.summary.resourceChanges ?? {}) as Record<string, number>, text };
  }

  async function setConfig(values: Record<string, string>): Promise<void> {
    await stack.setAllConfig(
      Object.fromEntries(Object.entries(values).map(([k, v]) => [`standin-check:${k}`, { value: v }])),
    );
  }

  before(async function () {
    requireToolchain();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-standin-"));
    fx = path.join(dir, "fx");
    fs.mkdirSync(fx);
    fs.mkdirSync(path.join(dir, ".state"));
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      "name: standin-check\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
    );
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "standin-check", private: true }));
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "commonjs",
          strict: true,
          esModuleInterop: true,
          skipLibCheck: true,
          types: ["node"],
        },
        files: ["index.ts"],
      }),
    );
    fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
    Object.assign(envVars, {
      PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: "standin-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    });
    stack = await LocalWorkspace.createOrSelectStack({ stackName: "standin", workDir: dir }, { envVars });
    await setConfig({ fxDir: fx });
  });

  after(async function () {
    if (dir && process.env.RUNBOOK_E2E_KEEP !== "1") {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("preview runs no command and leaves the command outputs unknown", async () => {
    const res = await stack.preview({ color: "never" });
    assert.strictEqual(res.changeSummary.create, 6, JSON.stringify(res.changeSummary));
    assert.deepStrictEqual(fs.readdirSync(fx), [], "a command ran during preview");
  });

  it("up creates: environment values reach the command as text, ids are computed like the real RandomId", async () => {
    const { outputs, text } = await up();
    assert.strictEqual(outputs.literalStdout, `a$(touch ${fx}/pwned)`);
    assert.strictEqual(outputs.literalStderr, "to-stderr");
    assert.ok(!fs.existsSync(path.join(fx, "pwned")), "the shell ran the environment value");
    assert.deepStrictEqual(lines(path.join(fx, "literal.log")), ["run"]);
    assert.strictEqual(outputs.rerunStdout, "v=1 prev=[]");
    assert.strictEqual(outputs.trigStdout, "created a");
    assert.strictEqual(outputs.updStdout, "first");
    // The command's output is shown while it runs (ephemeral status messages of the resource).
    assert.ok(text.includes(`a$(touch ${fx}/pwned)`) && text.includes("to-stderr"), text);

    const rid = outputs.rid;
    const bytes = Buffer.from(rid.hex, "hex");
    assert.strictEqual(bytes.length, 8);
    assert.strictEqual(rid.id, bytes.toString("base64url"));
    assert.strictEqual(rid.b64Url, rid.id);
    assert.strictEqual(rid.b64Std, bytes.toString("base64"));
    assert.strictEqual(rid.dec, BigInt(`0x${rid.hex}`).toString());

    // A secret input stays secret in the outputs (encrypted in the backend's file); stdout is not made secret
    // by it (like the real provider).
    const state = (await stack.exportStack()).deployment; // exported with --show-secrets
    const literal = state.resources.find((r: any) => r.type === "command:local:Command" && r.urn.endsWith("::literal"));
    assert.strictEqual(
      literal.outputs.environment.TOKEN["4dabf18193072939515e22adb298388d"],
      "1b47061264138c4ac30d75fd1eb44270",
      JSON.stringify(literal.outputs.environment),
    );
    const stateFile = path.join(dir, ".state", ".pulumi", "stacks", "standin-check", "standin.json");
    assert.ok(fs.readFileSync(stateFile, "utf8").includes("ciphertext"), `no encrypted value in ${stateFile}`);
    assert.ok(!fs.readFileSync(stateFile, "utf8").includes("s3cr3t"), `the secret is in plain text in ${stateFile}`);
    assert.strictEqual(literal.outputs.stdout, `a$(touch ${fx}/pwned)`);
    assert.strictEqual(literal.outputs.addPreviousOutputInEnv, true);
    const randomId = state.resources.find((r: any) => r.type === "random:index/randomId:RandomId");
    assert.strictEqual(randomId.id, rid.id);
  });

  it("a second up with the same inputs changes nothing and runs nothing", async () => {
    const before = (await stack.outputs()).rid.value;
    const { outputs, changes } = await up();
    assert.deepStrictEqual(
      Object.keys(changes).filter((k) => k !== "same"),
      [],
      JSON.stringify(changes),
    );
    assert.deepStrictEqual(outputs.rid, before);
    assert.deepStrictEqual(lines(path.join(fx, "literal.log")), ["run"]);
    assert.deepStrictEqual(lines(path.join(fx, "rerun.log")), ["1"]);
    assert.deepStrictEqual(lines(path.join(fx, "trig.log")), ["a"]);
  });

  it("preview of changed inputs plans replace/update and runs nothing", async () => {
    await setConfig({ keeper: "2", v: "2", trigger: "b", w: "2" });
    const res = await stack.preview({ color: "never" });
    assert.strictEqual(res.changeSummary.replace, 2, JSON.stringify(res.changeSummary));
    assert.strictEqual(res.changeSummary.update, 2, JSON.stringify(res.changeSummary));
    assert.deepStrictEqual(lines(path.join(fx, "rerun.log")), ["1"]);
    assert.deepStrictEqual(lines(path.join(fx, "trig.log")), ["a"]);
  });

  it("up: keepers replace the id, environment re-runs create, triggers replace, update runs update", async () => {
    const before = (await stack.outputs()).rid.value;
    const trigIdBefore = (await stack.outputs()).trigId.value;
    const { outputs, changes } = await up();
    assert.strictEqual(changes.replace, 2, JSON.stringify(changes));
    assert.strictEqual(changes.update, 2, JSON.stringify(changes));
    assert.notStrictEqual(outputs.rid.hex, before.hex);
    assert.deepStrictEqual(lines(path.join(fx, "rerun.log")), ["1", "2"]);
    assert.strictEqual(outputs.rerunStdout, "v=2 prev=[v=1 prev=[]]");
    assert.notStrictEqual(outputs.trigId, trigIdBefore);
    assert.deepStrictEqual(lines(path.join(fx, "trig.log")), ["a", "b", "deleted a"]);
    assert.strictEqual(outputs.updStdout, "updated prev=first w=2");
    assert.deepStrictEqual(lines(path.join(fx, "literal.log")), ["run"]);
  });

  it("a failing command fails the up with its exit status and output, and is not created", async () => {
    await setConfig({ fail: "true" });
    await assert.rejects(up(), (err: Error) => {
      assert.ok(err.message.includes(`exit status 7: running ${JSON.stringify(FAILING)}`), err.message);
      assert.ok(err.message.includes("out-line") && err.message.includes("err-line"), err.message);
      return true;
    });
    const state = (await stack.exportStack()).deployment;
    assert.ok(
      !state.resources.some((r: any) => String(r.urn).endsWith("::failing")),
      "the failed command is in the state",
    );
    await setConfig({ fail: "false" });
  });

  it("destroy runs delete with the last stdout in PULUMI_COMMAND_STDOUT", async () => {
    await stack.destroy({ color: "never" });
    assert.deepStrictEqual(lines(path.join(fx, "rerun-deleted.log")), ["v=2 prev=[v=1 prev=[]]"]);
    assert.deepStrictEqual(lines(path.join(fx, "trig.log")), ["a", "b", "deleted a", "deleted b"]);
  });
});
