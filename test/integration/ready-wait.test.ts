import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { waitFor200 } from "../../src/lib/verify/ready";

/** A loopback server whose answer to each request is decided by `respond(n)`, n counting from 1. */
async function startServer(
  respond: (n: number, res: http.ServerResponse) => void,
): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = http.createServer((_req, res) => respond(++count, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ready`,
    requests: () => count,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("waitFor200: the bounded wait for /ready (loopback server)", function () {
  this.timeout(20_000);

  it("reports the server's real answer, never an attempt the bound cut to nothing", async () => {
    const server = await startServer((_n, res) => res.writeHead(503).end());
    try {
      const started = Date.now();
      const result = await waitFor200("ready", server.url, { timeoutMs: 2_000, requestTimeoutMs: 5_000 });
      const ms = Date.now() - started;
      assert.strictEqual(result.ok, false);
      assert.match(result.detail, /did not answer 200 within 2\.0s \(\d+ attempt\(s\); last: HTTP 503\)$/);
      assert.ok(ms < 3_000, `took ${ms} ms for a 2 s bound`);
      assert.ok(server.requests() >= 3, `only ${server.requests()} attempts in 2 s`);
    } finally {
      await server.close();
    }
  });

  it("keeps the last real answer when the final attempt times out", async () => {
    // 503 twice, then accept and never answer.
    const server = await startServer((n, res) => {
      if (n <= 2) res.writeHead(503).end();
    });
    try {
      const result = await waitFor200("ready", server.url, { timeoutMs: 3_000, requestTimeoutMs: 800 });
      assert.strictEqual(result.ok, false);
      assert.match(result.detail, /last: no answer within 0\.8s; last answer: HTTP 503\)$/);
    } finally {
      await server.close();
    }
  });

  it("passes as soon as the server answers 200, counting the attempts", async () => {
    const server = await startServer((n, res) => res.writeHead(n < 3 ? 503 : 200).end());
    try {
      const result = await waitFor200("ready", server.url, {
        timeoutMs: 10_000,
        requestTimeoutMs: 1_000,
        initialDelayMs: 50,
      });
      assert.strictEqual(result.ok, true, result.detail);
      assert.match(result.detail, /answered 200 after 3 attempt\(s\)/);
      assert.strictEqual(server.requests(), 3);
    } finally {
      await server.close();
    }
  });

  it("gives a bound shorter than one attempt window a single full attempt", async () => {
    const server = await startServer((_n, res) => res.writeHead(502).end());
    try {
      const result = await waitFor200("ready", server.url, { timeoutMs: 300, requestTimeoutMs: 5_000 });
      assert.strictEqual(result.ok, false);
      assert.match(result.detail, /last: HTTP 502\)$/);
      assert.ok(server.requests() >= 1);
    } finally {
      await server.close();
    }
  });
});
