import * as assert from "assert";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { writeKubeconfig } from "../fixtures/alexandria-api/kubeconfig";
import { buildCli, CliRun, requirePostgres, runCli } from "../support/postgres";
import { prodPreflightArgs, startProdCluster } from "../support/prodCluster";
import { OPEN_REGISTRY, pushTag, requireTestRegistries } from "../support/registry";

const REPO = `${OPEN_REGISTRY}/runbook-test`;
const PWNED = ["/tmp/pwned", "/tmp/pwned2", "/tmp/pwned3", "/tmp/pwned4"];

/** A password with shell syntax in it, so that any shell on the way would both leak and run it. */
const PASSWORD = "S3cr3t!pw-$(touch /tmp/pwned4)";
const ENCODED = encodeURIComponent(PASSWORD);
const dsn = (hostPort: string, query = "") => `postgres://runbook_admin:${ENCODED}@${hostPort}/postgres${query}`;

function assertNoSecret(run: CliRun, what: string): void {
  const out = run.stdout + run.stderr;
  for (const secret of [PASSWORD, ENCODED, "S3cr3t"])
    assert.ok(!out.includes(secret), `${what}: the password was printed:\n${out}`);
}

function assertNothingRan(): void {
  for (const file of PWNED) assert.ok(!fs.existsSync(file), `${file} exists: a value reached a shell`);
}

describe("security: no shell, no leaked secrets", function () {
  this.timeout(120_000);
  let kube: FakeKubeApi;
  const SHELL_CONTEXT = "ctx$(touch /tmp/pwned3)";

  before(async function () {
    for (const file of PWNED) fs.rmSync(file, { force: true });
    await requireTestRegistries();
    await requirePostgres();
    await pushTag({ registry: OPEN_REGISTRY, repository: "runbook-test/api", tag: "v1.2.4" });
    await buildCli();
  });
  beforeEach(async () => {
    kube = await startProdCluster(
      {
        revisions: [{ revision: 1, status: "deployed" }],
        pods: [{ name: "alexandria-ee-api-1" }],
        runningApi: `${REPO}/api:v1.2.3`,
        dsn: dsn("127.0.0.1:55432"),
      },
      ["fake", SHELL_CONTEXT],
    );
  });
  afterEach(async () => {
    await kube.close();
    assertNothingRan();
  });

  for (const tag of ["v1.2.3$(touch /tmp/pwned)", "v1.2.3`touch /tmp/pwned2`"]) {
    it(`rejects the tag ${tag} as invalid, protected or not, through --image and --images, and runs nothing`, async () => {
      for (const protectedFlag of [["--protected"], []]) {
        for (const imageArgs of [
          ["--image", `api=${REPO}/api:${tag}`],
          ["--images", `orchestrator=${REPO}/orchestrator:v1.2.4,api=${REPO}/api:${tag}`],
        ]) {
          const run = await runCli(["preflight", "--skip-cluster", ...protectedFlag, ...imageArgs], {
            env: { PG_DSN: dsn("127.0.0.1:55432") },
          });
          assert.strictEqual(run.code, 2, run.stdout + run.stderr);
          assert.match(run.stderr, /--images? api: the tag .* is not a valid image tag/);
        }
      }
      assertNothingRan();
    });
  }

  it("passes shell syntax in --context and --acknowledge to the kube client and the gate as plain text", async () => {
    const run = await runCli(
      prodPreflightArgs(
        `${REPO}/api:v1.2.4`,
        "--context",
        SHELL_CONTEXT,
        "--dsn-secret",
        "alexandria-db/dsn",
        "--protected",
        "--acknowledge",
        "v1.2.4`touch /tmp/pwned3`",
        "--json",
      ),
      kube.cliOptions(),
    );
    // The context was looked up by its literal name: the requests carry that context's token.
    assert.ok(kube.requests().length > 0);
    for (const request of kube.requests()) assert.strictEqual(request.tokenOf, SHELL_CONTEXT);
    assertNothingRan();
    assertNoSecret(run, "preflight with the DSN from the secret");
  });

  it("rejects shell syntax in --namespace, --release and --dsn-secret (exit 2)", async () => {
    const image = ["--image", `api=${REPO}/api:v1.2.4`];
    for (const args of [
      ["--namespace", "prod$(touch /tmp/pwned3)", "--release", "a"],
      ["--namespace", "prod", "--release", "a`touch /tmp/pwned3`"],
      ["--skip-cluster", "--dsn-secret", "db/$(touch /tmp/pwned3)"],
    ]) {
      const run = await runCli(["preflight", ...args, ...image], kube.cliOptions({ PG_DSN: dsn("127.0.0.1:55432") }));
      assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assertNoSecret(run, args.join(" "));
    }
    assert.deepStrictEqual(kube.requests(), []);
  });

  it("an exec credential plugin of the kubeconfig runs without the DSN or the registry password in its environment", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "exec-plugin-"));
    try {
      // The plugin records its whole environment, then prints the ExecCredential the fake requires.
      const plugin = path.join(dir, "credential-plugin.js");
      const seenEnv = path.join(dir, "plugin-env.json");
      fs.writeFileSync(
        plugin,
        `require("fs").writeFileSync(process.argv[2], JSON.stringify(process.env));\n` +
          `process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", ` +
          `status: { token: "token-from-exec-plugin" } }));\n`,
      );
      kube.acceptToken("token-from-exec-plugin", "exec-plugin");
      const kubeconfig = path.join(dir, "kubeconfig");
      writeKubeconfig(kubeconfig, [
        { name: "exec", server: kube.url, user: { exec: { command: process.execPath, args: [plugin, seenEnv] } } },
      ]);
      const registryPassword = "registry-pw-7f3a";
      const run = await runCli(prodPreflightArgs(`${REPO}/api:v1.2.4`, "--json"), {
        env: {
          KUBECONFIG: kubeconfig,
          PG_DSN: dsn("127.0.0.1:55432"),
          REGISTRY_USERNAME: "runbook",
          REGISTRY_PASSWORD: registryPassword,
        },
      });
      assert.ok(
        kube.requests().some((r) => r.tokenOf === "exec-plugin"),
        `the API server never saw the plugin's token:\n${run.stdout}${run.stderr}`,
      );
      const env = JSON.parse(fs.readFileSync(seenEnv, "utf8")) as Record<string, string>;
      assert.strictEqual(env.KUBECONFIG, kubeconfig, "the plugin ran with the CLI's environment");
      for (const name of ["PG_DSN", "REGISTRY_PASSWORD"]) assert.ok(!(name in env), `${name} reached the plugin`);
      const seen = JSON.stringify(env);
      for (const secret of [PASSWORD, ENCODED, registryPassword])
        assert.ok(!seen.includes(secret), "a secret reached the plugin");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("the PG_DSN password never reaches stdout, stderr or an error", () => {
    const preflight = (env: NodeJS.ProcessEnv, json: boolean) =>
      runCli(["preflight", "--skip-cluster", "--image", `api=${REPO}/api:v1.2.4`, ...(json ? ["--json"] : [])], {
        env,
      });

    for (const json of [false, true]) {
      const mode = json ? " (--json)" : "";

      it(`when nothing listens at the DSN's address${mode}`, async () => {
        const run = await preflight({ PG_DSN: dsn("127.0.0.1:1") }, json);
        assert.strictEqual(run.code, 1);
        assert.match(run.stdout, /database/);
        assert.match(run.stdout, /cannot connect to PostgreSQL as runbook_admin@127\.0\.0\.1:1\/postgres/);
        assertNoSecret(run, "connection refused");
      });

      it(`when the server rejects the password${mode}`, async () => {
        const run = await preflight({ PG_DSN: dsn("127.0.0.1:55432") }, json);
        assert.strictEqual(run.code, 1, run.stdout + run.stderr);
        assert.match(run.stdout, /password authentication failed|check the user and password/);
        assertNoSecret(run, "wrong password");
      });

      it(`when the DSN cannot be parsed or has unknown parameters (exit 2)${mode}`, async () => {
        for (const bad of [
          `postgres://runbook_admin:${ENCODED}@[bad`,
          dsn("127.0.0.1:55432", "?sslmode=bogus"),
          dsn("127.0.0.1:55432", "?password_file=x"),
          `postgres://runbook_admin:${PASSWORD}@127.0.0.1:55432/postgres`,
        ]) {
          const run = await preflight({ PG_DSN: bad }, json);
          assert.strictEqual(run.code, 2, `${run.stdout}${run.stderr}`);
          assert.match(run.stderr, /PG_DSN/);
          assertNoSecret(run, "bad DSN");
        }
      });
    }

    it("when the DSN comes from the cluster Secret and the password is wrong", async () => {
      const run = await runCli(
        prodPreflightArgs(`${REPO}/api:v1.2.4`, "--dsn-secret", "alexandria-db/dsn"),
        kube.cliOptions(),
      );
      assert.strictEqual(run.code, 1);
      assert.match(run.stdout, /FAIL {2}database/);
      assertNoSecret(run, "secret DSN");
      assert.ok(kube.requests().length > 0);
      for (const request of kube.requests()) {
        const sent = JSON.stringify([request.path, request.query, request.headers]);
        assert.ok(!sent.includes("S3cr3t") && !sent.includes(ENCODED), "a secret went to the API server");
      }
    });
  });
});
