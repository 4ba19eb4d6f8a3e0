// Every reason code is documented: a user who sees one in a client error or
// a log line finds in the README's troubleshooting table what it means,
// what to do, and which doctor step confirms it. The table is generated
// from errors.ts, so it must equal what the script writes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { withReasonsTable } from "../scripts/reasons-table.ts";
import { reasons } from "../src/errors.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

it("documents every reason code in the README", () => {
  for (const reason of Object.keys(reasons)) {
    assert.ok(
      readme.includes(`| \`${reason}\` |`),
      `README lacks reason ${reason} (npm run docs:reasons -w @grpc-edge/gateway)`,
    );
  }
});

it("the README's troubleshooting table is the one errors.ts and the doctor's steps give", () => {
  assert.ok(
    withReasonsTable(readme) === readme,
    "README's reason table is stale: run `npm run docs:reasons -w @grpc-edge/gateway`",
  );
});
