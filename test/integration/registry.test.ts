import * as assert from "assert";
import { checkImage, parseImageReference } from "../../src/lib/registry";
import { buildCli, dsnFor, runCli } from "../support/postgres";
import {
  AUTH_REGISTRY,
  AUTH_REGISTRY_PASSWORD,
  AUTH_REGISTRY_USER,
  OPEN_REGISTRY,
  pushTag,
  requireTestRegistries,
} from "../support/registry";

describe("registry client against real registries (test/services/registry.sh)", function () {
  this.timeout(60_000);
  let openDigest: string;

  before(async () => {
    await requireTestRegistries();
    openDigest = await pushTag({ registry: OPEN_REGISTRY, repository: "runbook-test/api", tag: "v1.2.3" });
    await pushTag({
      registry: AUTH_REGISTRY,
      repository: "runbook-test/api",
      tag: "v1.2.3",
      username: AUTH_REGISTRY_USER,
      password: AUTH_REGISTRY_PASSWORD,
    });
  });

  const check = (image: string, credentials = {}) =>
    checkImage(parseImageReference(image), { credentials, backoffMs: 50 });

  it("finds a pushed tag and reports its digest", async () => {
    const result = await check(`${OPEN_REGISTRY}/runbook-test/api:v1.2.3`);
    assert.strictEqual(result.status, "exists");
    assert.ok(result.status === "exists");
    assert.strictEqual(result.digest, openDigest);
  });

  it("reports a missing tag as missing, naming image:tag", async () => {
    const result = await check(`${OPEN_REGISTRY}/runbook-test/api:v9.9.9`);
    assert.strictEqual(result.status, "missing");
    assert.ok(result.status === "missing" && result.detail.includes(`${OPEN_REGISTRY}/runbook-test/api:v9.9.9`));
  });

  it("reports a repository that does not exist as missing", async () => {
    const result = await check(`${OPEN_REGISTRY}/runbook-test/never-pushed:v1.2.3`);
    assert.strictEqual(result.status, "missing");
  });

  it("finds an image by digest, and not by an unknown digest", async () => {
    assert.strictEqual((await check(`${OPEN_REGISTRY}/runbook-test/api@${openDigest}`)).status, "exists");
    assert.strictEqual((await check(`${OPEN_REGISTRY}/runbook-test/api@sha256:${"0".repeat(64)}`)).status, "missing");
  });

  it("without credentials, says the registry wants them and which variables to set", async () => {
    const result = await check(`${AUTH_REGISTRY}/runbook-test/api:v1.2.3`);
    assert.strictEqual(result.status, "unauthorized");
    assert.ok(result.status === "unauthorized");
    assert.strictEqual(result.registry, AUTH_REGISTRY);
    assert.match(result.detail, new RegExp(`registry ${AUTH_REGISTRY.replace(/\./g, "\\.")} requires credentials`));
    assert.match(result.detail, /REGISTRY_USERNAME and REGISTRY_PASSWORD/);
  });

  it("with basic credentials, finds the tag (and a missing tag is still missing)", async () => {
    const creds = { username: AUTH_REGISTRY_USER, password: AUTH_REGISTRY_PASSWORD };
    assert.strictEqual((await check(`${AUTH_REGISTRY}/runbook-test/api:v1.2.3`, creds)).status, "exists");
    assert.strictEqual((await check(`${AUTH_REGISTRY}/runbook-test/api:v0.0.1`, creds)).status, "missing");
  });

  it("with wrong credentials, is unauthorized and never quotes the password", async () => {
    const password = "not-the-ci-password-42";
    const result = await check(`${AUTH_REGISTRY}/runbook-test/api:v1.2.3`, { username: AUTH_REGISTRY_USER, password });
    assert.strictEqual(result.status, "unauthorized");
    assert.ok(!JSON.stringify(result).includes(password));
    assert.ok(
      result.status === "unauthorized" &&
        /did not accept the credentials .* REGISTRY_USERNAME\/REGISTRY_PASSWORD/.test(result.detail),
    );
  });

  it("through the CLI: wrong REGISTRY_PASSWORD fails image:api without printing it", async function () {
    this.timeout(120_000);
    await buildCli();
    const password = "wrong-registry-pw-9876";
    const env = { PG_DSN: dsnFor("postgres"), REGISTRY_USERNAME: AUTH_REGISTRY_USER, REGISTRY_PASSWORD: password };
    for (const extra of [[], ["--json"]]) {
      const { code, stdout, stderr } = await runCli(
        ["preflight", "--skip-cluster", "--image", `api=${AUTH_REGISTRY}/runbook-test/api:v1.2.3`, ...extra],
        { env },
      );
      assert.strictEqual(code, 1, stdout + stderr);
      assert.match(stdout, /image:api/);
      assert.match(stdout, /did not accept the credentials/);
      assert.ok(!(stdout + stderr).includes(password), "the password was printed");
    }
  });
});
