import assert from "node:assert/strict";
import { compareObjects } from "../../src/lib/diff/compare";
import { formatRenderedDiff } from "../../src/lib/diff/format";
import { parseManifest } from "../../src/lib/diff/manifest-objects";
import type { RenderedDiff } from "../../src/lib/diff/rendered-diff";
import { summariseByKind, summaryLine } from "../../src/lib/diff/summary";

const NS = "alexandria";
const LABELS = { live: "live (revision 4)", target: "target" };

function parse(stream: string) {
  return parseManifest(stream, NS, "test stream");
}

function compare(live: string, target: string) {
  return compareObjects(parse(live), parse(target), LABELS);
}

function deployment(name: string, image: string, extra = ""): string {
  return `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  template:
    spec:
      containers:
        - name: api
          image: ${image}${extra}
`;
}

function configMap(name: string, data: Record<string, string>, apiVersion = "v1"): string {
  return `---
apiVersion: ${apiVersion}
kind: ConfigMap
metadata:
  name: ${name}
data: ${JSON.stringify(data)}
`;
}

function secret(name: string, data: Record<string, string>, stringData?: Record<string, string>): string {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
  return `---
apiVersion: v1
kind: Secret
metadata:
  name: ${name}
type: Opaque
data: ${JSON.stringify(encoded)}
${stringData === undefined ? "" : `stringData: ${JSON.stringify(stringData)}\n`}`;
}

function hookJob(name: string, image: string, events = "pre-upgrade,pre-install"): string {
  return `---
# Source: alexandria-ee/templates/migrate-job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  annotations:
    helm.sh/hook: ${events}
spec:
  template:
    spec:
      containers:
        - name: migrate
          image: ${image}
`;
}

describe("rendered diff: parsing a manifest", () => {
  it("keys objects by API group (not version), kind, namespace and name", () => {
    const [object] = parse(deployment("web", "reg/web:v1"));
    assert.deepEqual(object.key, { group: "apps", kind: "Deployment", namespace: NS, name: "web" });
    const [core] = parse(configMap("settings", {}));
    assert.equal(core.key.group, "");
  });

  it("skips empty documents and Helm's # Source comments", () => {
    assert.equal(parse(`---\n# Source: x/templates/empty.yaml\n---\n${configMap("a", {})}\n---\n`).length, 1);
  });

  it("gives objects without a namespace the release's, so spelling it out is not a change", () => {
    const withNamespace = configMap("a", { k: "v" }).replace("  name: a", `  name: a\n  namespace: ${NS}`);
    const { objects } = compare(configMap("a", { k: "v" }), withNamespace);
    assert.equal(objects.length, 1);
    assert.equal(objects[0].key.namespace, NS);
    assert.equal(objects[0].change, "changed"); // the metadata text differs, the identity does not
  });

  it("refuses a stream that holds one object twice", () => {
    assert.throws(() => compare("", configMap("a", {}) + configMap("a", {})), /ConfigMap alexandria\/a twice/);
  });

  it("does not quote an invalid document (it may be a Secret)", () => {
    const bad = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: "hunter2-value\n   : x: [`;
    assert.throws(
      () => parse(bad),
      (err: Error) => /not valid YAML/.test(err.message) && !err.message.includes("hunter2"),
    );
  });
});

describe("rendered diff: matching objects", () => {
  it("an identical object is unchanged and has no diff", () => {
    const { objects, imageChanges } = compare(deployment("web", "reg/web:v1"), deployment("web", "reg/web:v1"));
    assert.deepEqual(
      objects.map((o) => [o.change, o.diff]),
      [["unchanged", undefined]],
    );
    assert.deepEqual(imageChanges, []);
  });

  it("key order and quoting are not changes", () => {
    const reordered = `apiVersion: v1\nmetadata: {name: a}\nkind: ConfigMap\ndata:\n  "k": 'v'\n`;
    assert.equal(compare(configMap("a", { k: "v" }), reordered).objects[0].change, "unchanged");
  });

  it("same name, different kind: two objects", () => {
    const live = configMap("web", { k: "v" });
    const target = configMap("web", { k: "v" }) + secret("web", { k: "v" });
    const { objects } = compare(live, target);
    assert.deepEqual(
      objects.map((o) => [o.key.kind, o.key.name, o.change]),
      [
        ["ConfigMap", "web", "unchanged"],
        ["Secret", "web", "added"],
      ],
    );
  });

  it("same kind and name in another namespace: two objects", () => {
    const other = configMap("a", { k: "v" }).replace("  name: a", "  name: a\n  namespace: other");
    const { objects } = compare(configMap("a", { k: "v" }), other);
    assert.deepEqual(
      objects.map((o) => [o.key.namespace, o.change]),
      [
        [NS, "removed"],
        ["other", "added"],
      ],
    );
  });

  it("a new API version of the same group is a change of that object", () => {
    const { objects } = compare(
      configMap("a", {})
        .replace("apiVersion: v1", "apiVersion: policy/v1beta1")
        .replace("ConfigMap", "PodDisruptionBudget"),
      configMap("a", {}).replace("apiVersion: v1", "apiVersion: policy/v1").replace("ConfigMap", "PodDisruptionBudget"),
    );
    assert.deepEqual(
      objects.map((o) => o.change),
      ["changed"],
    );
    assert.match(objects[0].diff ?? "", /^-apiVersion: policy\/v1beta1$/m);
    assert.match(objects[0].diff ?? "", /^\+apiVersion: policy\/v1$/m);
  });

  it("a changed object carries a unified diff of its YAML", () => {
    const { objects } = compare(configMap("a", { mode: "slow" }), configMap("a", { mode: "fast" }));
    const diff = objects[0].diff ?? "";
    assert.match(diff, /^--- live \(revision 4\): ConfigMap alexandria\/a$/m);
    assert.match(diff, /^\+\+\+ target: ConfigMap alexandria\/a$/m);
    assert.match(diff, /^-  mode: slow$/m);
    assert.match(diff, /^\+  mode: fast$/m);
    assert.doesNotMatch(diff, /^=+$/m);
  });

  it("a first install adds everything", () => {
    const { objects } = compareObjects([], parse(deployment("web", "reg/web:v1") + configMap("a", {})), LABELS);
    assert.deepEqual(
      objects.map((o) => o.change),
      ["added", "added"],
    );
  });
});

describe("rendered diff: Secrets are masked", () => {
  const VALUE_BEFORE = "old-password-4f1c";
  const VALUE_AFTER = "new-password-9d2e";
  const SAME = "unchanged-user-7b3a";
  const b64 = (v: string) => Buffer.from(v).toString("base64");

  function secretDiff() {
    return compare(
      secret("db", { password: VALUE_BEFORE, user: SAME, gone: VALUE_BEFORE }, { token: VALUE_BEFORE }),
      secret("db", { password: VALUE_AFTER, user: SAME, fresh: VALUE_AFTER }, { token: VALUE_AFTER }),
    );
  }

  it("a changed value shows as masked-changed, an equal one as masked-unchanged", () => {
    const [object] = secretDiff().objects;
    assert.equal(object.change, "changed");
    const diff = object.diff ?? "";
    assert.match(diff, /^-  password: "\*\*\* \(before\)"$/m);
    assert.match(diff, /^\+  password: "\*\*\* \(changed\)"$/m);
    assert.match(diff, /^ {3}user: "\*\*\* \(unchanged\)"$/m);
    assert.match(diff, /^-  gone: "\*\*\* \(removed\)"$/m);
    assert.match(diff, /^\+  fresh: "\*\*\* \(added\)"$/m);
    assert.match(diff, /^\+  token: "\*\*\* \(changed\)"$/m);
  });

  it("no value, plain or base64, appears anywhere in the result, its JSON or its text", () => {
    const comparison = secretDiff();
    const result: RenderedDiff = {
      release: "alexandria-ee",
      namespace: NS,
      target: { chart: "chart", version: "1" },
      changed: true,
      objects: comparison.objects,
      byKind: summariseByKind(comparison.objects),
      summary: summaryLine(summariseByKind(comparison.objects)),
      imageChanges: comparison.imageChanges,
    };
    const printed = JSON.stringify(result) + formatRenderedDiff(result);
    for (const value of [VALUE_BEFORE, VALUE_AFTER, SAME]) {
      assert.ok(!printed.includes(value), `the value ${value} is printed`);
      assert.ok(!printed.includes(b64(value)), `the base64 of ${value} is printed`);
    }
  });

  it("an added or removed Secret is masked too", () => {
    const { objects } = compare(secret("old", { k: VALUE_BEFORE }), secret("new", { k: VALUE_AFTER }));
    const text = objects.map((o) => o.diff).join("\n");
    assert.match(text, /^\+  k: "\*\*\* \(added\)"$/m);
    assert.match(text, /^-  k: "\*\*\* \(removed\)"$/m);
    assert.ok(!text.includes(b64(VALUE_BEFORE)) && !text.includes(b64(VALUE_AFTER)));
  });

  it("a Secret whose values are equal is unchanged", () => {
    const { objects } = compare(secret("db", { password: SAME }), secret("db", { password: SAME }));
    assert.equal(objects[0].change, "unchanged");
  });
});

describe("rendered diff: hooks", () => {
  it("hooks are compared like objects and marked by their helm.sh/hook annotation", () => {
    const { objects } = compare(
      deployment("web", "reg/web:v1") + hookJob("migrate", "reg/migrate:v1"),
      deployment("web", "reg/web:v1") + hookJob("migrate", "reg/migrate:v2"),
    );
    const hook = objects.find((o) => o.key.kind === "Job");
    assert.equal(hook?.hook, "pre-upgrade,pre-install");
    assert.equal(hook?.change, "changed");
    assert.equal(objects.find((o) => o.key.kind === "Deployment")?.hook, undefined);
    assert.equal(summaryLine(summariseByKind(objects)), "Job (hook): 1 changed");
  });

  it("a hook that only the target has is added", () => {
    const { objects } = compare("", hookJob("migrate", "reg/migrate:v1", "post-upgrade"));
    assert.deepEqual(
      objects.map((o) => [o.key.kind, o.hook, o.change]),
      [["Job", "post-upgrade", "added"]],
    );
  });
});

describe("rendered diff: image changes", () => {
  it("names the object, the container, the old and the new image", () => {
    const { imageChanges } = compare(deployment("web", "reg/web:v1"), deployment("web", "reg/web:v2"));
    assert.deepEqual(imageChanges, [
      {
        object: { group: "apps", kind: "Deployment", namespace: NS, name: "web" },
        container: "api",
        from: "reg/web:v1",
        to: "reg/web:v2",
      },
    ]);
  });

  it("covers init containers, CronJobs and hooks; a new object's images have no old one", () => {
    const cron = `---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{name: wait, image: reg/wait:v1}]
          containers: [{name: run, image: reg/run:v1}]
`;
    const { imageChanges } = compare(
      cron + hookJob("migrate", "reg/migrate:v1"),
      cron.replace("reg/wait:v1", "reg/wait:v2") +
        hookJob("migrate", "reg/migrate:v2") +
        deployment("web", "reg/web:v1"),
    );
    assert.deepEqual(
      imageChanges.map((c) => [c.object.kind, c.container, c.from, c.to]),
      [
        ["Deployment", "api", undefined, "reg/web:v1"],
        ["CronJob", "init:wait", "reg/wait:v1", "reg/wait:v2"],
        ["Job", "migrate", "reg/migrate:v1", "reg/migrate:v2"],
      ],
    );
  });

  it("a change elsewhere in the object is no image change", () => {
    const { objects, imageChanges } = compare(
      deployment("web", "reg/web:v1"),
      deployment("web", "reg/web:v1", "\n          args: [--verbose]"),
    );
    assert.equal(objects[0].change, "changed");
    assert.deepEqual(imageChanges, []);
  });
});

describe("rendered diff: summary", () => {
  it("counts by kind, hooks apart, unchanged kinds left out", () => {
    const { objects } = compare(
      deployment("web", "reg/web:v1") + deployment("worker", "reg/w:v1") + hookJob("migrate", "reg/m:v1"),
      deployment("web", "reg/web:v2") +
        deployment("worker", "reg/w:v1") +
        configMap("extra", {}) +
        hookJob("migrate", "reg/m:v2"),
    );
    assert.equal(
      summaryLine(summariseByKind(objects)),
      "ConfigMap: 1 added; Deployment: 1 changed; Job (hook): 1 changed",
    );
  });

  it("says so when nothing changes", () => {
    const { objects } = compare(configMap("a", {}), configMap("a", {}));
    assert.equal(summaryLine(summariseByKind(objects)), "no changes (1 object unchanged)");
  });
});
