// Every reason code is documented: a user who sees one in a client error or
// a log line finds what it means and what to do in the README.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { reasons } from "../src/errors.ts";

it("documents every reason code in the README", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  for (const [reason, info] of Object.entries(reasons)) {
    assert.ok(
      readme.includes(`| \`${reason}\` |`),
      `README lacks reason ${reason} (npm run docs:reasons -w @grpc-edge/gateway)`,
    );
    assert.ok(
      readme.includes(info.advice.replaceAll("|", "\\|")),
      `README's advice for ${reason} is stale`,
    );
  }
});
