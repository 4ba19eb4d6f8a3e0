import assert from "node:assert/strict";
import { it } from "node:test";
import { GATEWAY_NODE_FLAGS, missingNodeFlags, nodeFlags, probeNodeFlags } from "./node-flags.ts";

const FLAGS = [
  "--max-semi-space-size=8",
  "--external-memory-accounted-in-global-limit",
  "--no-memory-reducer",
];

it("finds the flags on the command line or in NODE_OPTIONS, with any value", () => {
  assert.deepEqual(missingNodeFlags(FLAGS, [], undefined), FLAGS);
  assert.deepEqual(missingNodeFlags(FLAGS, FLAGS, undefined), []);
  assert.deepEqual(missingNodeFlags(FLAGS, ["--conditions=source"], ` ${FLAGS.join(" ")}`), []);
  assert.deepEqual(
    missingNodeFlags(
      FLAGS,
      ["--max-semi-space-size=16", "--external-memory-accounted-in-global-limit"],
      "--no-memory-reducer",
    ),
    [],
  );
  assert.deepEqual(missingNodeFlags(FLAGS, ["--max-old-space-size=4"], "--inspect"), FLAGS);
});

it("counts a boolean flag's other form as the operator's choice, not as missing", () => {
  assert.deepEqual(
    missingNodeFlags(
      FLAGS,
      [
        "--max-semi-space-size=8",
        "--no-external-memory-accounted-in-global-limit",
        // The list has --no-memory-reducer; the operator turned it back on.
        "--memory-reducer",
      ],
      undefined,
    ),
    [],
  );
  assert.deepEqual(
    missingNodeFlags(FLAGS, ["--no-max-semi-space-size"], undefined),
    FLAGS.slice(1),
  );
});

it("runs with the list, or with GATEWAY_NODE_FLAGS instead (empty: none)", () => {
  assert.deepEqual(nodeFlags({}), [...GATEWAY_NODE_FLAGS]);
  assert.deepEqual(nodeFlags({ GATEWAY_NODE_FLAGS: " --a  --b=1 " }), ["--a", "--b=1"]);
  assert.deepEqual(nodeFlags({ GATEWAY_NODE_FLAGS: "" }), []);
});

it("this Node accepts every flag of the list; one it does not know is set apart", () => {
  assert.deepEqual(probeNodeFlags(process.execPath, GATEWAY_NODE_FLAGS), {
    accepted: [...GATEWAY_NODE_FLAGS],
    rejected: [],
  });
  assert.deepEqual(
    probeNodeFlags(process.execPath, ["--max-semi-space-size=8", "--no-such-v8-flag"]),
    { accepted: ["--max-semi-space-size=8"], rejected: ["--no-such-v8-flag"] },
  );
});
