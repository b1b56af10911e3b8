import assert from "node:assert/strict";
import { describeStartupErrors } from "../../src/lib/verify/api-logs";
import { logLineShape } from "../../src/lib/verify/log-line-shape";
import { findStartupErrors } from "../../src/lib/verify/startup-errors";

const LEAKY = "ERROR db connect failed password=hunter2 dsn=postgres://u:s3cret@h/db token=eyJabc.def";

describe("api-logs: quoting a log line by its shape", () => {
  it("masks key=value values, URLs and tokens, keeping the words that say what failed", () => {
    assert.equal(logLineShape(LEAKY), "ERROR db connect failed password=*** dsn=*** token=***");
  });

  it("masks JSON values but keeps the keys", () => {
    assert.equal(
      logLineShape('{"level":"error","msg":"migration failed","dsn":"postgres://app:pw@db:5432/x","n":42}'),
      '{"level":"***","msg":"***","dsn":"***","n":***}',
    );
  });

  it("keeps kubectl's pod prefix and plain words, masks numbers, paths and quoted text", () => {
    assert.equal(
      logLineShape(
        "[pod/alexandria-ee-api-7d9f/api] FATAL: cannot open /etc/app/key.pem for user 'admin' at 10.0.0.1:5432",
      ),
      "[pod/alexandria-ee-api-7d9f/api] FATAL: cannot open *** for user '***' at ***",
    );
  });

  it("masks the word after password, token, secret, Bearer...", () => {
    assert.equal(
      logLineShape("ERROR password hunter rejected; Authorization: Bearer abcdefgh; secret: xyz"),
      "ERROR password *** rejected; Authorization: Bearer ***; secret: ***",
    );
  });

  it("masks words that look like ids rather than words (mixed case, long runs of letters)", () => {
    assert.equal(logLineShape("ERROR session eyJhbGciOiJIUzI1 abcdefghijklmnopqrstuvwxyz ok"), "ERROR session *** ok");
  });

  it("the check's detail names the pattern and the count, never a value", () => {
    const lines = [
      "[pod/a/api] starting",
      `[pod/a/api] ${LEAKY}`,
      "[pod/a/api] panic: runtime error: index out of range [3]",
    ];
    const detail = describeStartupErrors(findStartupErrors(lines), lines.length);
    assert.match(detail, /^2 of the last 3 api log line\(s\) look like startup errors: /);
    assert.match(detail, /\[ERROR\] \[pod\/a\/api\] ERROR db connect failed password=\*\*\*/);
    assert.match(detail, /\[panic\] \[pod\/a\/api\] panic: runtime error: index out of range \[\*\*\*\]/);
    for (const secret of ["hunter2", "s3cret", "eyJabc", "u:", "h/db"]) assert.ok(!detail.includes(secret), detail);
  });
});
