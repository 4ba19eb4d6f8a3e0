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
  assert.deepEqual(
    missingNodeFlags(
      [
        "--max-semi-space-size=16",
        "--external-memory-accounted-in-global-limit",
        "--no-memory-reducer",
        "--initial-old-space-size=128",
      ],
      "",
    ),
    [],
  );
  assert.deepEqual(missingNodeFlags(["--max-old-space-size=4"], "--inspect"), [
    "--max-semi-space-size=8",
    "--external-memory-accounted-in-global-limit",
    "--no-memory-reducer",
    "--initial-old-space-size=64",
  ]);
});

it("counts a boolean flag's other form as the operator's choice, not as missing", () => {
  assert.deepEqual(
    missingNodeFlags(
      [
        "--max-semi-space-size=8",
        "--no-external-memory-accounted-in-global-limit",
        // The list has --no-memory-reducer; the operator turned it back on.
        "--memory-reducer",
        "--initial-old-space-size=64",
      ],
      undefined,
    ),
    [],
  );
  assert.deepEqual(missingNodeFlags(["--no-max-semi-space-size"], undefined), [
    "--external-memory-accounted-in-global-limit",
    "--no-memory-reducer",
    "--initial-old-space-size=64",
  ]);
});
