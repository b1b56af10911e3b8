/**
 * em-runtime as its upgrade guide runs it, through the real engine against the sandbox's cluster: the chart
 * pulled from the auth registry (oci://127.0.0.1:15001/charts/em-runtime) with the chart registry's
 * credentials, a first install, a chart-version bump as the whole upgrade (pg_dumpall's scope: one server
 * snapshot of every em-runtime database per upgrade, with the two Secrets), the health path checked, and a
 * failed migration ending with the way back and `runbook diagnose`.
 */
import * as assert from "assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { filesHolding, makeProjectCopy, removeProjectCopy, runbook, setFixtureMode, up } from "./support/project";
import {
  appendContainerLog,
  createEmStack,
  EM_DATABASES,
  EM_NAMESPACE,
  EM_RELEASE,
  EM_SERVICES,
  emDeployedImages,
  emHelmHistory,
  emImage,
  requireEmSandbox,
  resetEmSandbox,
  savedSecretFiles,
  serverManifests,
} from "./support/em-runtime";

const WRONG_PASSWORD = "wrong-chart-registry-pw-91c4";

async function healthRequests(): Promise<number> {
  const res = await fetch(`${process.env.RUNBOOK_E2E_FIXTURE_URL}/__fixture/requests`);
  return ((await res.json()) as Record<string, number>)["/api/governance/health"] ?? 0;
}

describe("e2e: em-runtime from its OCI chart, as its upgrade guide runs it", function () {
  let project: ReturnType<typeof makeProjectCopy>;
  let stack: Stack;

  before(async () => {
    requireEmSandbox();
    resetEmSandbox();
    project = makeProjectCopy();
    stack = await createEmStack(project, "e2e-em", "0.9.0", { chartRegistryPassword: WRONG_PASSWORD });
  });

  it("a wrong chart registry password fails the up before anything runs, naming the registry and the keys", async () => {
    const run = await up(stack);
    assert.ok(run.error, "up should have failed");
    const message = `${String(run.error)}\n${run.output}`;
    assert.match(message, /127\.0\.0\.1:15001/);
    assert.match(message, /refused the login of user 'ci'/);
    assert.match(message, /chartRegistryUsername/);
    assert.match(message, /pulumi config set --secret chartRegistryPassword/);
    assert.ok(!message.includes(WRONG_PASSWORD), "the password is in the output");
    assert.deepStrictEqual(emHelmHistory(), [], "a release was installed");
    assert.deepStrictEqual(serverManifests(project.snapshots), [], "a snapshot was taken");
    await stack.setConfig("release-runbook:chartRegistryPassword", {
      value: process.env.RUNBOOK_E2E_CHART_REGISTRY_PASSWORD!,
      secret: true,
    });
  });

  it("first install of 0.9.0 from oci:// with the credentials: every service at the chart's version, health checked", async () => {
    const healthBefore = await healthRequests();
    const run = await up(stack);
    assert.ifError(run.error);
    assert.deepStrictEqual(emHelmHistory(), [{ revision: 1, status: "deployed", chart: "em-runtime-0.9.0" }]);
    const images = emDeployedImages();
    for (const service of EM_SERVICES)
      assert.strictEqual(images[`${EM_RELEASE}-${service}`], emImage(service, "0.9.0"));
    assert.ok(images[`${EM_RELEASE}-keycloak`], `no keycloak Deployment: ${JSON.stringify(images)}`);
    assert.ok(images[`${EM_RELEASE}-openfga`], `no openfga Deployment: ${JSON.stringify(images)}`);
    assert.ok((await healthRequests()) > healthBefore, "verification never asked /api/governance/health");
    const outputs = await stack.outputs();
    assert.strictEqual(outputs.releaseRevision.value, 1);
    assert.match(String(outputs.verification.value), /governance\/health|health=ok|health/);
  });

  let upgradeOutput = "";

  it("a chart-version bump is the whole upgrade: one server snapshot of every em-runtime database", async () => {
    const snapshotsBefore = serverManifests(project.snapshots).length;
    await stack.setConfig("release-runbook:chartVersion", { value: "0.10.0" });
    const preview = await stack.preview({ diff: true, color: "never" });
    assert.match(preview.stdout, /kubernetes:helm\.sh\/v3:Release/);
    assert.match(preview.stdout, /0\.10\.0/);
    assert.deepStrictEqual(emHelmHistory().length, 1, "preview changed the release");

    const run = await up(stack);
    upgradeOutput = run.output;
    fs.writeFileSync(path.join(process.env.RUNBOOK_E2E_STATE ?? project.dir, "em-runtime-upgrade.out"), run.output);
    assert.ifError(run.error);
    const history = emHelmHistory();
    assert.deepStrictEqual(
      history.map((r) => [r.revision, r.status, r.chart]),
      [
        [1, "superseded", "em-runtime-0.9.0"],
        [2, "deployed", "em-runtime-0.10.0"],
      ],
    );
    const images = emDeployedImages();
    for (const service of EM_SERVICES)
      assert.strictEqual(images[`${EM_RELEASE}-${service}`], emImage(service, "0.10.0"));

    // One server-wide snapshot per upgrade, taken before the release changed, listing every em database.
    const manifests = serverManifests(project.snapshots);
    assert.strictEqual(manifests.length, snapshotsBefore + 1, JSON.stringify(manifests.map((m) => m.path)));
    const latest = manifests.at(-1)!.manifest;
    const names = (latest.databases as { name: string }[]).map((d) => d.name).sort();
    for (const db of EM_DATABASES) assert.ok(names.includes(db), `${db} is not in the snapshot: ${names.join(", ")}`);
    const alembic = Object.fromEntries(
      (latest.databases as { name: string; schemaVersion: string | null }[]).map((d) => [d.name, d.schemaVersion]),
    );
    for (const service of EM_SERVICES) assert.strictEqual(alembic[service], `0001_${service}`);
    assert.strictEqual(alembic.keycloak, null);
    // The guide's `kubectl get secret ... -o yaml > backup` of both Secrets: saved inside the server snapshot,
    // listed in its manifest with their sha256, readable by nobody else.
    const companions = (latest.companions ?? []) as {
      kind: string;
      path: string;
      sha256: string;
      secrets?: string[];
    }[];
    const secrets = companions.find((c) => c.kind === "kubernetes-secrets");
    assert.ok(secrets, `no Secrets in the server snapshot's manifest: ${JSON.stringify(companions)}`);
    assert.deepStrictEqual([...(secrets.secrets ?? [])].sort(), ["em-runtime-secrets", "infisical-bootstrap-secret"]);
    const saved = savedSecretFiles(project.snapshots);
    assert.strictEqual(saved.length, manifests.length, saved.join(", "));
    // The Secrets' file lives beside the manifest, inside the snapshot's directory.
    const file = path.join(path.dirname(manifests.at(-1)!.path), path.basename(secrets.path));
    const content = fs.readFileSync(file);
    assert.strictEqual(crypto.createHash("sha256").update(content).digest("hex"), secrets.sha256);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    assert.match(content.toString("utf8"), /em-runtime-secrets/);
    assert.match(content.toString("utf8"), /infisical-bootstrap-secret/);
    assert.doesNotMatch(run.output, /not saved with a server snapshot/);
  });

  it("an up with nothing changed takes no snapshot and makes no revision", async () => {
    const before = serverManifests(project.snapshots).length;
    const run = await up(stack);
    assert.ifError(run.error);
    assert.strictEqual(serverManifests(project.snapshots).length, before);
    assert.strictEqual(emHelmHistory().length, 2);
  });

  it("a failed migration: health fails, the up fails with the way back and names runbook diagnose", async () => {
    // Healthy for preflight's check before the upgrade (one request), failing once the new chart runs.
    await setFixtureMode({ migrationFailed: true, migrationFailsAfterRequests: 1 });
    appendContainerLog("governance", [
      "INFO  [alembic.runtime.migration] Running upgrade 0001_governance -> 0002_governance, add policy table",
      "ERROR [alembic.util.messaging] Target database is not up to date.",
      'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable) relation "policies" already exists',
      "governance: database migration failed",
    ]);
    try {
      await stack.setConfig("release-runbook:chartVersion", { value: "0.11.0" });
      const run = await up(stack);
      assert.ok(run.error, "up should have failed");
      const message = `${String(run.error)}\n${run.output}`;
      assert.match(message, /\/api\/governance\/health/);
      assert.match(message, /503|unhealthy|migration/i);
      // The way back: the pre-upgrade server snapshot and the rollback that restores it, or Helm's rollback.
      assert.match(message, /runbook rollback|helm rollback|previous release serves again/);
      assert.match(message, /runbook diagnose/);

      const diagnose = runbook(project, ["diagnose", "--namespace", EM_NAMESPACE, "--release", EM_RELEASE]);
      const text = `${diagnose.stdout}\n${diagnose.stderr}`;
      // What the guide's troubleshooting asks for: the pods, their events, init containers waiting on
      // dependencies, crash loops' previous logs (none here: kwok keeps the pods Ready), Keycloak's logs.
      assert.match(text, /pods of the release/);
      assert.match(text, /em-runtime-governance-/);
      assert.match(text, /init containers waiting on dependencies/);
      assert.match(text, /logs --previous/);
      assert.match(text, /Keycloak's logs \(app=keycloak\)[\s\S]*Keycloak 26\.0 on JVM started/);
      console.log(
        `      the failed up's error:\n${String(run.error).split("\n").slice(-25).join("\n").replace(/^/gm, "        ")}`,
      );
      console.log(`      runbook diagnose (exit ${diagnose.status}):\n${text.replace(/^/gm, "        ")}`);
    } finally {
      await setFixtureMode({ migrationFailed: false });
    }
  });

  it("neither the chart registry password nor the superuser's is in the stack's state, history or stack files", () => {
    assert.deepStrictEqual(filesHolding(project, process.env.RUNBOOK_E2E_CHART_REGISTRY_PASSWORD!), []);
    assert.deepStrictEqual(filesHolding(project, "runbook-test-pw"), []);
    assert.ok(upgradeOutput.length > 0);
    assert.ok(!upgradeOutput.includes(process.env.RUNBOOK_E2E_CHART_REGISTRY_PASSWORD!));
  });

  after(() => removeProjectCopy(project));
});
