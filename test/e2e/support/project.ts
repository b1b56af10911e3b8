import * as assert from "assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { Client } from "pg";

export const REPO = path.resolve(__dirname, "..", "..", "..");
export const NAMESPACE = "alexandria";
export const RELEASE = "alexandria-ee";
export const REGISTRY = "127.0.0.1:15000";
export const SCHEMA_QUERY = "select max(version)::text from schema_migrations";

/** The sandbox registry's image of an Alexandria component at `tag`. */
export const image = (component: string, tag: string) => `${REGISTRY}/alexandria/${component}:${tag}`;

/** Runs `work` with a connection to the sandbox database as its admin, closed afterwards. */
export async function withDb<T>(work: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: process.env.RUNBOOK_E2E_ADMIN_DSN });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/** Fails the suite at once, with the fix, when the sandbox is not up. */
export function requireSandbox(): void {
  const missing = ["KUBECONFIG", "PULUMI_HOME", "RUNBOOK_E2E_FIXTURE_URL", "RUNBOOK_E2E_ADMIN_DSN"].filter(
    (v) => !process.env[v],
  );
  assert.deepStrictEqual(
    missing,
    [],
    `the e2e sandbox is not up (missing ${missing.join(", ")}): run \`bash test/e2e/run.sh\`, ` +
      "or `source $(bash test/e2e/sandbox/up.sh)` then `npm run test:e2e`",
  );
}

/**
 * A copy of the project in a temporary directory, as an operator's checkout: the program, the CLI (its
 * compiled output linked), the test chart, and a file backend of its own. Stack files land there, not in
 * the repository.
 */
export function makeProjectCopy(): { dir: string; backend: string; snapshots: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-e2e-"));
  for (const entry of [
    "index.ts",
    "components",
    "src",
    "bin",
    "Pulumi.yaml",
    "package.json",
    "tsconfig.json",
    "tsconfig.pulumi.json",
  ]) {
    fs.cpSync(path.join(REPO, entry), path.join(dir, entry), { recursive: true });
  }
  fs.mkdirSync(path.join(dir, "test", "fixtures"), { recursive: true });
  fs.cpSync(path.join(REPO, "test", "fixtures", "charts"), path.join(dir, "test", "fixtures", "charts"), {
    recursive: true,
  });
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  fs.symlinkSync(path.join(REPO, "dist"), path.join(dir, "dist"));
  const backend = path.join(dir, ".state");
  const snapshots = path.join(dir, "snapshots");
  fs.mkdirSync(backend);
  return { dir, backend, snapshots };
}

export function pulumiEnv(backend: string): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}

export interface StackOptions {
  readonly tags: string;
  readonly tier?: string;
  readonly adopt?: boolean;
  readonly extra?: Record<string, string>;
}

/** Creates a stack in the project copy with a complete config for the sandbox. */
export async function createStack(
  project: ReturnType<typeof makeProjectCopy>,
  name: string,
  opts: StackOptions,
): Promise<Stack> {
  Object.assign(process.env, pulumiEnv(project.backend));
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: name, workDir: project.dir },
    { envVars: pulumiEnv(project.backend) },
  );
  await stack.setAllConfig({
    "release-runbook:namespace": { value: NAMESPACE },
    "release-runbook:releaseName": { value: RELEASE },
    "release-runbook:chart": { value: "test/fixtures/charts/alexandria-ee" },
    "release-runbook:tier": { value: opts.tier ?? "starter" },
    "release-runbook:baseUrl": { value: process.env.RUNBOOK_E2E_FIXTURE_URL! },
    "release-runbook:dsnSecret": { value: "alexandria-db/dsn" },
    "release-runbook:schemaVersionQuery": { value: SCHEMA_QUERY },
    "release-runbook:snapshotDir": { value: project.snapshots },
    "release-runbook:helmTimeoutSeconds": { value: "60" },
    "release-runbook:readyTimeoutSeconds": { value: "20" },
    ...(opts.adopt ? { "release-runbook:adoptExistingRelease": { value: "true" } } : {}),
    ...Object.fromEntries(Object.entries(opts.extra ?? {}).map(([k, v]) => [`release-runbook:${k}`, { value: v }])),
  });
  await setTags(stack, opts.tags);
  return stack;
}

export async function setTags(stack: Stack, tag: string): Promise<void> {
  for (const component of ["api", "orchestrator", "dashboard"]) {
    await stack.setConfig(`imageTags.${component}`, { value: tag }, true);
  }
}

/** Runs `pulumi up`, keeping the engine's events and printed output for assertions. */
export async function up(stack: Stack): Promise<{ events: EngineEvent[]; output: string; error?: Error }> {
  const events: EngineEvent[] = [];
  let output = "";
  try {
    await stack.up({ onEvent: (e) => events.push(e), onOutput: (o) => (output += o), color: "never" });
    return { events, output };
  } catch (err) {
    return { events, output, error: err as Error };
  }
}

export function kubectl(...args: string[]): string {
  return execFileSync("kubectl", ["-n", NAMESPACE, ...args], { encoding: "utf8" });
}

/** Helm's release revisions in the cluster, from its storage Secrets: [{revision, status}] oldest first. */
export function helmRevisions(): { revision: number; status: string }[] {
  const list = JSON.parse(kubectl("get", "secrets", "-l", `owner=helm,name=${RELEASE}`, "-o", "json")) as {
    items: { metadata: { labels: Record<string, string> } }[];
  };
  return list.items
    .map((i) => ({ revision: Number(i.metadata.labels.version), status: i.metadata.labels.status }))
    .sort((a, b) => a.revision - b.revision);
}

/** The image of each Deployment's container, e.g. {api: "127.0.0.1:15000/alexandria/api:v1.4.0"}. */
export function deployedImages(): Record<string, string> {
  const list = JSON.parse(
    kubectl("get", "deployments", "-l", `app.kubernetes.io/instance=${RELEASE}`, "-o", "json"),
  ) as {
    items: {
      spec: {
        template: { spec: { containers: { name: string; image: string; env?: { name: string; value?: string }[] }[] } };
      };
    }[];
  };
  const images: Record<string, string> = {};
  for (const d of list.items) for (const c of d.spec.template.spec.containers) images[c.name] = c.image;
  return images;
}

export function deployedLicenseTier(): string | undefined {
  const d = JSON.parse(kubectl("get", "deployment", `${RELEASE}-api`, "-o", "json")) as {
    spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
  };
  return d.spec.template.spec.containers[0].env?.find((e) => e.name === "LICENSE_TIER")?.value;
}

/** Snapshot manifests in a directory. */
export function manifests(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".manifest.json"))
        .sort()
    : [];
}

export async function setFixtureMode(mode: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${process.env.RUNBOOK_E2E_FIXTURE_URL}/__fixture/mode`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(mode),
  });
  assert.strictEqual(res.status, 200, `fixture mode ${JSON.stringify(mode)}: ${res.status} ${await res.text()}`);
}

export function resetSandbox(): void {
  execFileSync("bash", [path.join(REPO, "test", "e2e", "sandbox", "reset.sh")], { stdio: "inherit" });
}

/** The URNs whose resourcePreEvent / resOutputsEvent came, in engine order, for `op` steps of `type`. */
export function stepOrder(events: readonly EngineEvent[]): { urn: string; phase: "pre" | "done"; op: string }[] {
  const out: { urn: string; phase: "pre" | "done"; op: string }[] = [];
  for (const e of [...events].sort((a, b) => a.sequence - b.sequence)) {
    if (e.resourcePreEvent)
      out.push({ urn: e.resourcePreEvent.metadata.urn, phase: "pre", op: e.resourcePreEvent.metadata.op });
    if (e.resOutputsEvent)
      out.push({ urn: e.resOutputsEvent.metadata.urn, phase: "done", op: e.resOutputsEvent.metadata.op });
  }
  return out;
}

/**
 * The start of a suite that installs from scratch: the sandbox back to its seeded state, a fresh project
 * copy, no admin yet (so /auth/setup answers 200 on the first install), and a stack at `tags`.
 */
export async function firstInstallStack(
  name: string,
  tags: string,
): Promise<{ project: ReturnType<typeof makeProjectCopy>; stack: Stack }> {
  requireSandbox();
  resetSandbox();
  const project = makeProjectCopy();
  await setFixtureMode({ adminExists: false, tier: "starter" });
  return { project, stack: await createStack(project, name, { tags }) };
}

/** Removes a suite's project copy, unless RUNBOOK_E2E_KEEP=1 asks to keep it for a look afterwards. */
export function removeProjectCopy(project: ReturnType<typeof makeProjectCopy> | undefined): void {
  if (project && process.env.RUNBOOK_E2E_KEEP !== "1") fs.rmSync(project.dir, { recursive: true, force: true });
}

/** Runs the runbook CLI from the operator's checkout (the project copy), with the admin DSN a restore needs. */
export function runbook(project: ReturnType<typeof makeProjectCopy>, args: string[]) {
  const result = spawnSync(process.execPath, [path.join(project.dir, "bin", "runbook.js"), ...args], {
    cwd: project.dir,
    env: { ...process.env, ...pulumiEnv(project.backend), PG_DSN: process.env.RUNBOOK_E2E_ADMIN_DSN },
    encoding: "utf8",
  });
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(result.stdout.trim().split("\n").pop() || "{}");
  } catch {
    // a text (not --json) run
  }
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, json };
}

/** The files of the stack's state, history and backups, and its stack files, that hold `text` in clear. */
export function filesHolding(project: ReturnType<typeof makeProjectCopy>, text: string): string[] {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (fs.readFileSync(full).includes(text)) offenders.push(full);
    }
  };
  walk(project.backend);
  for (const f of fs.readdirSync(project.dir).filter((n) => n.startsWith("Pulumi."))) {
    if (fs.readFileSync(path.join(project.dir, f)).includes(text)) offenders.push(f);
  }
  return offenders;
}
