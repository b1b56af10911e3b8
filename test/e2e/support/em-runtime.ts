/**
 * em-runtime in the e2e sandbox (test/e2e/sandbox/up.sh with RUNBOOK_E2E_EM_RUNTIME=1): its namespace and
 * release, its chart in the auth registry, its PostgreSQL server of its own, and a stack configured as its
 * guide runs it (one values file, a pinned chart version, the chart registry's credentials as a secret).
 */
import * as assert from "assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { makeProjectCopy, pulumiEnv, REPO } from "./project";

export const EM_NAMESPACE = "em-runtime";
export const EM_RELEASE = "em-runtime";
export const EM_DATABASES = ["keycloak", "openfga", "infisical", "governance", "assets", "utils"];
export const EM_SERVICES = ["governance", "assets", "utils"];

/** Fails the suite at once, with the fix, when the sandbox has no em-runtime. */
export function requireEmSandbox(): void {
  const missing = [
    "KUBECONFIG",
    "PULUMI_HOME",
    "RUNBOOK_E2E_FIXTURE_URL",
    "RUNBOOK_E2E_EM_ADMIN_DSN",
    "RUNBOOK_E2E_EM_CHART",
    "RUNBOOK_E2E_CHART_REGISTRY_USER",
    "RUNBOOK_E2E_CHART_REGISTRY_PASSWORD",
  ].filter((v) => !process.env[v]);
  assert.deepStrictEqual(
    missing,
    [],
    `the e2e sandbox has no em-runtime (missing ${missing.join(", ")}): run \`bash test/e2e/run.sh\`, or ` +
      "`source $(RUNBOOK_E2E_EM_RUNTIME=1 bash test/e2e/sandbox/up.sh)` then the test",
  );
}

export function resetEmSandbox(): void {
  execFileSync("bash", [path.join(REPO, "test", "e2e", "sandbox", "reset.sh"), "--em-runtime"], { stdio: "inherit" });
}

export function emKubectl(...args: string[]): string {
  return execFileSync("kubectl", ["-n", EM_NAMESPACE, ...args], { encoding: "utf8" });
}

/** Helm's revisions of em-runtime, oldest first, with the chart each installed (from `helm history`). */
export function emHelmHistory(): { revision: number; status: string; chart: string }[] {
  let text: string;
  try {
    text = execFileSync("helm", ["history", EM_RELEASE, "-n", EM_NAMESPACE, "-o", "json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch {
    return [];
  }
  return (JSON.parse(text) as { revision: number; status: string; chart: string }[]).map((r) => ({
    revision: r.revision,
    status: r.status,
    chart: r.chart,
  }));
}

/** The image of each em-runtime Deployment's main container, by Deployment name. */
export function emDeployedImages(): Record<string, string> {
  const list = JSON.parse(
    emKubectl("get", "deployments", "-l", `app.kubernetes.io/instance=${EM_RELEASE}`, "-o", "json"),
  ) as { items: { metadata: { name: string }; spec: { template: { spec: { containers: { image: string }[] } } } }[] };
  const images: Record<string, string> = {};
  for (const d of list.items) images[d.metadata.name] = d.spec.template.spec.containers[0].image;
  return images;
}

/** The sandbox's image of an em-runtime service at a chart version (the chart's appVersion pins it). */
export const emImage = (service: string, version: string) => `127.0.0.1:15000/em-runtime/${service}:${version}`;

/** Appends lines to the logs kwok serves for every container named `container` (container-log.sh). */
export function appendContainerLog(container: string, lines: string[]): void {
  execFileSync("bash", [path.join(REPO, "test", "e2e", "cluster", "container-log.sh"), container], {
    input: `${lines.join("\n")}\n`,
  });
}

/** Every manifest.json of a server snapshot (kind "server") under `dir`, oldest first. */
export function serverManifests(dir: string): { path: string; manifest: Record<string, any> }[] {
  const found: { path: string; manifest: Record<string, any> }[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory() && !entry.name.startsWith(".")) walk(full);
      else if (entry.name === "manifest.json") {
        const manifest = JSON.parse(fs.readFileSync(full, "utf8")) as Record<string, any>;
        if (manifest.kind === "server") found.push({ path: full, manifest });
      }
    }
  };
  walk(dir);
  return found.sort((a, b) => String(a.manifest.createdAt).localeCompare(String(b.manifest.createdAt)));
}

/** Files named `<secret>.secrets.json` under `dir` (the Secrets saved with a snapshot). */
export function savedSecretFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      // NAME.secrets.json beside a database's dump; NAME/secrets.json inside a server snapshot.
      else if (entry.name === "secrets.json" || entry.name.endsWith(".secrets.json"))
        found.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return found.sort();
}

/**
 * An em-runtime stack in the project copy, configured as the guide runs it: `application: em-runtime`, the
 * chart from the auth registry at `chartVersion`, the chart registry's credentials (the password a secret),
 * one values file, the em-runtime server's superuser DSN (pg_dumpall's scope) as a secret, no tier, no tags.
 */
export async function createEmStack(
  project: ReturnType<typeof makeProjectCopy>,
  name: string,
  chartVersion: string,
  opts: { chartRegistryPassword?: string; extra?: Record<string, string> } = {},
): Promise<Stack> {
  Object.assign(process.env, pulumiEnv(project.backend));
  const valuesFile = path.join(project.dir, "em-values.yaml");
  fs.writeFileSync(valuesFile, "governance:\n  replicas: 1\nassets:\n  replicas: 1\nutils:\n  replicas: 1\n");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: name, workDir: project.dir },
    { envVars: pulumiEnv(project.backend) },
  );
  const key = (k: string) => `release-runbook:${k}`;
  await stack.setAllConfig({
    [key("application")]: { value: "em-runtime" },
    [key("namespace")]: { value: EM_NAMESPACE },
    [key("chart")]: { value: process.env.RUNBOOK_E2E_EM_CHART! },
    [key("chartVersion")]: { value: chartVersion },
    [key("chartRegistryUsername")]: { value: process.env.RUNBOOK_E2E_CHART_REGISTRY_USER! },
    [key("chartRegistryPassword")]: {
      value: opts.chartRegistryPassword ?? process.env.RUNBOOK_E2E_CHART_REGISTRY_PASSWORD!,
      secret: true,
    },
    [key("baseValuesFile")]: { value: "em-values.yaml" },
    [key("baseUrl")]: { value: process.env.RUNBOOK_E2E_FIXTURE_URL! },
    [key("pgDsn")]: { value: process.env.RUNBOOK_E2E_EM_ADMIN_DSN!, secret: true },
    [key("snapshotDir")]: { value: project.snapshots },
    [key("helmTimeoutSeconds")]: { value: "60" },
    [key("readyTimeoutSeconds")]: { value: "20" },
    ...Object.fromEntries(Object.entries(opts.extra ?? {}).map(([k, v]) => [key(k), { value: v }])),
  });
  return stack;
}
