import * as assert from "assert";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { checkImage, credentialsFromEnv, parseImageReference, parseWwwAuthenticate } from "../../src/lib/registry";
import { formatImageReference, isLoopbackHost } from "../../src/lib/registry/reference";

describe("registry: WWW-Authenticate", () => {
  it("parses a bearer challenge as GHCR and Artifact Registry send it", () => {
    assert.deepStrictEqual(
      parseWwwAuthenticate('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/api:pull"'),
      [
        {
          scheme: "bearer",
          params: { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:org/api:pull" },
        },
      ],
    );
  });

  it("parses basic, several challenges, unquoted values and escapes", () => {
    assert.deepStrictEqual(parseWwwAuthenticate('Basic realm="test"'), [
      { scheme: "basic", params: { realm: "test" } },
    ]);
    assert.deepStrictEqual(
      parseWwwAuthenticate('Basic realm="a, \\"b\\"", Bearer realm=https://auth/token , service=reg'),
      [
        { scheme: "basic", params: { realm: 'a, "b"' } },
        { scheme: "bearer", params: { realm: "https://auth/token", service: "reg" } },
      ],
    );
    assert.deepStrictEqual(parseWwwAuthenticate(""), []);
  });
});

describe("registry: image references", () => {
  it("splits Artifact Registry, GHCR, loopback and Docker Hub references", () => {
    assert.deepStrictEqual(parseImageReference("us-docker.pkg.dev/proj/repo/api:v1.2.3"), {
      registry: "us-docker.pkg.dev",
      repository: "proj/repo/api",
      tag: "v1.2.3",
    });
    assert.deepStrictEqual(parseImageReference("ghcr.io/org/api:1.2.3-rc.1"), {
      registry: "ghcr.io",
      repository: "org/api",
      tag: "1.2.3-rc.1",
    });
    assert.deepStrictEqual(parseImageReference("127.0.0.1:15000/alexandria/api:v1"), {
      registry: "127.0.0.1:15000",
      repository: "alexandria/api",
      tag: "v1",
    });
    assert.deepStrictEqual(parseImageReference("postgres:15"), {
      registry: "docker.io",
      repository: "library/postgres",
      tag: "15",
    });
    assert.deepStrictEqual(parseImageReference("localhost/api"), { registry: "localhost", repository: "api" });
  });

  it("keeps a digest, with or without a tag, and formats references back", () => {
    const digest = `sha256:${"0f".repeat(32)}`;
    const ref = parseImageReference(`ghcr.io/org/api:v1.2.3@${digest}`);
    assert.deepStrictEqual(ref, { registry: "ghcr.io", repository: "org/api", tag: "v1.2.3", digest });
    assert.strictEqual(formatImageReference(ref), `ghcr.io/org/api@${digest}`);
    assert.strictEqual(formatImageReference(parseImageReference("ghcr.io/org/api:v1")), "ghcr.io/org/api:v1");
  });

  it("rejects shell syntax, bad digests, uppercase repositories and bad hosts", () => {
    const cases: [string, RegExp][] = [
      ["ghcr.io/org/api:v1.2.3$(touch /tmp/pwned)", /tag .* is not a valid image tag/],
      ["ghcr.io/org/api:v1.2.3`touch /tmp/pwned2`", /tag .* is not a valid image tag/],
      ["ghcr.io/org/api@sha256:abc", /not a sha256: digest/],
      ["ghcr.io/Org/api:v1", /not a valid repository path/],
      ["bad_host.io:x/api:v1", /not a valid registry host/],
      ["", /empty/],
    ];
    for (const [text, pattern] of cases) assert.throws(() => parseImageReference(text), pattern, text);
  });

  it("treats only loopback hosts as loopback", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1"]) assert.ok(isLoopbackHost(host), host);
    for (const host of ["10.0.0.1", "ghcr.io", "127.0.0.1.nip.io", "localhost.evil.com"])
      assert.ok(!isLoopbackHost(host), host);
  });
});

describe("registry: credentials", () => {
  it("come from the environment only, empty values ignored", () => {
    assert.deepStrictEqual(credentialsFromEnv({ REGISTRY_USERNAME: "u", REGISTRY_PASSWORD: "p", REGISTRY_TOKEN: "" }), {
      username: "u",
      password: "p",
    });
    assert.deepStrictEqual(credentialsFromEnv({ REGISTRY_TOKEN: "t" }), { token: "t" });
  });
});

/**
 * A registry that speaks the distribution token flow as Artifact Registry does: 401 with a Bearer challenge,
 * a token service that takes `oauth2accesstoken` + an access token, manifests served only with that token.
 */
interface FakeRegistry {
  readonly host: string;
  readonly requests: { method: string; path: string; authorization?: string }[];
  /** Per-test behaviour. */
  behaviour: {
    headStatus?: number;
    failuresBeforeSuccess?: number;
    anonymousTokens?: boolean;
    neverAnswer?: boolean;
  };
  close(): Promise<void>;
}

const ACCESS_TOKEN = "ya29.access-token-value";
const ISSUED_TOKEN = "issued-registry-token";
const DIGEST = `sha256:${"cd".repeat(32)}`;

async function startFakeRegistry(): Promise<FakeRegistry> {
  const requests: FakeRegistry["requests"] = [];
  let failures = 0;
  const fake: Omit<FakeRegistry, "host" | "close"> = { requests, behaviour: {} };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    requests.push({
      method: req.method ?? "",
      path: `${url.pathname}${url.search}`,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const b = fake.behaviour;
    if (b.neverAnswer) return; // the client's own deadline must end this
    if (url.pathname === "/token") {
      const basic = `Basic ${Buffer.from(`oauth2accesstoken:${ACCESS_TOKEN}`).toString("base64")}`;
      if (req.headers.authorization === basic || (b.anonymousTokens && req.headers.authorization === undefined)) {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: ISSUED_TOKEN }));
      } else {
        res.writeHead(401).end();
      }
      return;
    }
    if (b.failuresBeforeSuccess !== undefined && failures < b.failuresBeforeSuccess) {
      failures++;
      res.writeHead(503).end();
      return;
    }
    if (
      req.headers.authorization !== `Bearer ${ISSUED_TOKEN}` &&
      req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`
    ) {
      res
        .writeHead(401, {
          "WWW-Authenticate": `Bearer realm="http://${req.headers.host}/token",service="fake-registry",scope="repository:proj/repo/api:pull"`,
        })
        .end();
      return;
    }
    if (req.method === "HEAD" && b.headStatus !== undefined) {
      res.writeHead(b.headStatus).end();
      return;
    }
    if (url.pathname === "/v2/proj/repo/api/manifests/v1.2.3") {
      res.writeHead(200, {
        "Docker-Content-Digest": DIGEST,
        "Content-Type": "application/vnd.oci.image.index.v1+json",
      });
      res.end(req.method === "GET" ? "{}" : undefined);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

describe("registry: bearer token flow and retries (in-process fake registry)", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await startFakeRegistry();
  });
  afterEach(async () => {
    await registry.close();
  });

  const ref = (tag = "v1.2.3") => parseImageReference(`${registry.host}/proj/repo/api:${tag}`);
  const fast = { backoffMs: 10, timeoutMs: 2_000 };

  it("fetches a token with basic credentials from the challenge's realm, service and scope, then finds the tag", async () => {
    const result = await checkImage(ref(), {
      credentials: { username: "oauth2accesstoken", password: ACCESS_TOKEN },
      ...fast,
    });
    assert.deepStrictEqual(result, {
      status: "exists",
      image: `${registry.host}/proj/repo/api:v1.2.3`,
      digest: DIGEST,
      mediaType: "application/vnd.oci.image.index.v1+json",
    });
    const tokenRequest = registry.requests.find((r) => r.path.startsWith("/token"));
    assert.ok(tokenRequest, "no token request");
    const query = new URL(tokenRequest.path, "http://x").searchParams;
    assert.strictEqual(query.get("service"), "fake-registry");
    assert.strictEqual(query.get("scope"), "repository:proj/repo/api:pull");
    assert.strictEqual(registry.requests[registry.requests.length - 1]!.authorization, `Bearer ${ISSUED_TOKEN}`);
  });

  it("asks HEAD with every manifest media type in Accept", async () => {
    let accept: string | undefined;
    const probe = http.createServer((req, res) => {
      accept = req.headers.accept;
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    const result = await checkImage(parseImageReference(`127.0.0.1:${port}/a/b:v1`), { credentials: {}, ...fast });
    probe.close();
    assert.strictEqual(result.status, "missing");
    for (const type of [
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json",
    ]) {
      assert.ok(accept?.includes(type), `Accept lacks ${type}: ${accept}`);
    }
  });

  it("gets an anonymous token for a public image", async () => {
    registry.behaviour.anonymousTokens = true;
    const result = await checkImage(ref(), { credentials: {}, ...fast });
    assert.strictEqual(result.status, "exists");
  });

  it("says which variables to set when the token service wants credentials", async () => {
    const result = await checkImage(ref(), { credentials: {}, ...fast });
    assert.strictEqual(result.status, "unauthorized");
    assert.ok(result.status === "unauthorized");
    assert.strictEqual(result.registry, registry.host);
    assert.match(result.detail, /REGISTRY_USERNAME/);
    assert.match(result.detail, /REGISTRY_PASSWORD/);
    assert.match(result.detail, /REGISTRY_TOKEN/);
  });

  it("reports rejected credentials without quoting them", async () => {
    const password = "wrong-access-token-123";
    const result = await checkImage(ref(), { credentials: { username: "oauth2accesstoken", password }, ...fast });
    assert.strictEqual(result.status, "unauthorized");
    assert.ok(!JSON.stringify(result).includes(password));
    assert.ok(
      result.status === "unauthorized" &&
        /rejected the credentials in REGISTRY_USERNAME\/REGISTRY_PASSWORD/.test(result.detail),
    );
  });

  it("sends REGISTRY_TOKEN as the bearer token without asking the token service", async () => {
    const result = await checkImage(ref(), { credentials: { token: ACCESS_TOKEN }, ...fast });
    assert.strictEqual(result.status, "exists");
    assert.ok(!registry.requests.some((r) => r.path.startsWith("/token")));
  });

  it("falls back to GET when HEAD is refused with 405", async () => {
    registry.behaviour.headStatus = 405;
    const result = await checkImage(ref(), { credentials: { token: ACCESS_TOKEN }, ...fast });
    assert.strictEqual(result.status, "exists");
    assert.deepStrictEqual(
      registry.requests.map((r) => r.method),
      ["HEAD", "GET"],
    );
  });

  it("names the image:tag when it is missing", async () => {
    const result = await checkImage(ref("v9.9.9"), { credentials: { token: ACCESS_TOKEN }, ...fast });
    assert.strictEqual(result.status, "missing");
    assert.ok(result.status === "missing" && result.detail.includes(`${registry.host}/proj/repo/api:v9.9.9`));
  });

  it("retries 5xx answers with backoff, within the bound", async () => {
    registry.behaviour.failuresBeforeSuccess = 2;
    const result = await checkImage(ref(), { credentials: { token: ACCESS_TOKEN }, attempts: 3, ...fast });
    assert.strictEqual(result.status, "exists");
    assert.strictEqual(registry.requests.length, 3);
  });

  it("gives up after the last attempt on persistent 5xx", async () => {
    registry.behaviour.failuresBeforeSuccess = 100;
    const result = await checkImage(ref(), { credentials: { token: ACCESS_TOKEN }, attempts: 3, ...fast });
    assert.strictEqual(result.status, "error");
    assert.ok(result.status === "error" && /503/.test(result.detail));
    assert.strictEqual(registry.requests.length, 3);
  });

  it("bounds a registry that never answers by the per-request timeout", async () => {
    registry.behaviour.neverAnswer = true;
    const started = Date.now();
    const result = await checkImage(ref(), { credentials: {}, attempts: 2, backoffMs: 10, timeoutMs: 300 });
    assert.strictEqual(result.status, "error");
    assert.ok(
      result.status === "error" && /no answer within 0.3s \(2 attempts\)/.test(result.detail),
      JSON.stringify(result),
    );
    assert.ok(Date.now() - started < 3_000);
  });

  it("uses https unless the registry is on loopback or --registry-insecure is given; Docker Hub at its API host", async () => {
    const urls: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: string | URL | Request) => {
      urls.push(String(input));
      return new Response(null, { status: 404 });
    }) as typeof fetch;
    try {
      await checkImage(parseImageReference("ghcr.io/org/api:v1"), { credentials: {}, attempts: 1 });
      await checkImage(parseImageReference("registry.internal:5000/org/api:v1"), {
        credentials: {},
        attempts: 1,
        allowInsecure: true,
      });
      await checkImage(parseImageReference("localhost:5000/org/api:v1"), { credentials: {}, attempts: 1 });
      await checkImage(parseImageReference("postgres:15"), { credentials: {}, attempts: 1 });
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.deepStrictEqual(urls, [
      "https://ghcr.io/v2/org/api/manifests/v1",
      "http://registry.internal:5000/v2/org/api/manifests/v1",
      "http://localhost:5000/v2/org/api/manifests/v1",
      "https://registry-1.docker.io/v2/library/postgres/manifests/15",
    ]);
  });
});
