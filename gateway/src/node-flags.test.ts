import assert from "node:assert/strict";
import { it } from "node:test";
import { GATEWAY_NODE_FLAGS, missingNodeFlags } from "./node-flags.ts";

it("finds the gateway's flags on the command line or in NODE_OPTIONS, with any value", () => {
  assert.deepEqual(missingNodeFlags([], undefined), [...GATEWAY_NODE_FLAGS]);
  assert.deepEqual(missingNodeFlags([...GATEWAY_NODE_FLAGS], undefined), []);
  assert.deepEqual(
    missingNodeFlags(["--conditions=source"], ` ${GATEWAY_NODE_FLAGS.join(" ")}`),
    [],
  );
  assert.deepEqual(missingNodeFlags(["--max-semi-space-size=16"], ""), []);
  assert.deepEqual(missingNodeFlags(["--max-old-space-size=4"], "--inspect"), [
    "--max-semi-space-size=8",
  ]);
});
