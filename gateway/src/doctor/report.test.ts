import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildReport, fail, formatReport, pass, skip, warn } from "./report.ts";

describe("doctor report", () => {
  it("is ok with warnings and skips, not with a failure", () => {
    const warned = buildReport([
      { name: "config", checks: [pass("config", "config loads", "x.yaml")] },
      {
        name: "token",
        checks: [warn({ id: "t", title: "t", detail: "d", fix: "f" }), skip("s", "s", "d")],
      },
    ]);
    assert.equal(warned.ok, true);
    const failed = buildReport([
      {
        name: "cors",
        checks: [fail({ id: "cors.origin", title: "origin", detail: "d", fix: "f" })],
      },
    ]);
    assert.equal(failed.ok, false);
    assert.deepEqual(
      failed.steps.map((s) => [s.step, s.name]),
      [[5, "cors"]],
    );
  });

  it("prints each check on a line, a failure's reason and fix under it, and a summary", () => {
    const text = formatReport(
      buildReport([
        {
          name: "token",
          checks: [
            pass("token.decode", "decodes", "alg ES256"),
            fail({
              id: "token.audience",
              title: "audience",
              detail: "aud x",
              fix: "request it",
              reason: "wrong_audience",
            }),
          ],
        },
      ]),
    );
    assert.equal(
      text,
      [
        "4. the token",
        "  [ok]   decodes: alg ES256",
        "  [FAIL] audience: aud x [wrong_audience]",
        "         fix: request it",
        "1 failed, 0 warnings, 0 skipped",
        "",
      ].join("\n"),
    );
  });
});
