import * as assert from "assert";
import { restorableSecret } from "../../src/lib/backup/kube-secrets";
import { describeRedisSource, redisSourceFromUrl } from "../../src/lib/redis/source";
import { UsageError } from "../../src/lib/errors";

describe("backup: Redis URLs", () => {
  it("reads host, port, user, password and TLS, decoding percent-escapes", () => {
    assert.deepStrictEqual(redisSourceFromUrl("redis://:p%40ss%3Aword@redis.internal:6380"), {
      host: "redis.internal",
      port: 6380,
      password: "p@ss:word",
      tls: false,
    });
    assert.deepStrictEqual(redisSourceFromUrl("rediss://backup:pw@[::1]"), {
      host: "::1",
      port: 6379,
      username: "backup",
      password: "pw",
      tls: true,
    });
    assert.deepStrictEqual(redisSourceFromUrl("redis://127.0.0.1"), { host: "127.0.0.1", port: 6379, tls: false });
  });

  it("describes a source without its password", () => {
    const source = redisSourceFromUrl("rediss://backup:hunter2@redis.internal:6380/0");
    assert.strictEqual(describeRedisSource(source), "backup@redis.internal:6380 (TLS)");
  });

  it("refuses what is not a Redis URL, never quoting it", () => {
    for (const [url, message] of [
      ["not a url with s3cret", /is not a URL/],
      ["http://:s3cret@host:6379", /has scheme 'http'/],
      ["redis://:s3cret@:6379", /is not a URL|names no host/],
    ] as const) {
      assert.throws(
        () => redisSourceFromUrl(url),
        (err: Error) => err instanceof UsageError && message.test(err.message) && !err.message.includes("s3cret"),
        url,
      );
    }
  });
});

describe("backup: a Secret as kubectl apply restores it", () => {
  it("keeps name, namespace, labels, annotations, type, immutability and data; drops what the server set", () => {
    const restored = restorableSecret(
      {
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/tls",
        immutable: true,
        metadata: {
          name: "em-runtime-secrets",
          namespace: "em",
          labels: { app: "em" },
          annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{...}", owner: "platform" },
          ...({
            uid: "u",
            resourceVersion: "1",
            creationTimestamp: "t",
            managedFields: [{}],
            ownerReferences: [{}],
          } as object),
        },
        data: { "tls.crt": "Y3J0" },
      },
      "em-runtime-secrets",
      "em",
    );
    assert.deepStrictEqual(restored, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "em-runtime-secrets",
        namespace: "em",
        labels: { app: "em" },
        annotations: { owner: "platform" },
      },
      type: "kubernetes.io/tls",
      immutable: true,
      data: { "tls.crt": "Y3J0" },
    });
  });

  it("keeps an empty Secret restorable", () => {
    assert.deepStrictEqual(restorableSecret({ metadata: { name: "empty" } }, "empty", "em"), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "empty", namespace: "em" },
      data: {},
    });
  });
});
