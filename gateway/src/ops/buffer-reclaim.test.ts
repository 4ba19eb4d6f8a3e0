import assert from "node:assert/strict";
import { it } from "node:test";
import { waitFor } from "../../test/support/wait.ts";
import {
  bufferReclaims,
  GrowthTrigger,
  holdBufferReclaim,
  RECLAIM_INTERVAL_MS,
} from "./buffer-reclaim.ts";

const MB = 2 ** 20;

it("fires when the reading stands the threshold above its lowest, then counts again from the next", () => {
  const t = new GrowthTrigger(4 * MB);
  assert.equal(t.observe(10 * MB), false);
  assert.equal(t.observe(13 * MB), false);
  assert.equal(t.observe(14 * MB), false); // exactly 4 MB above: not yet
  assert.equal(t.observe(14 * MB + 1), true);
  // After a GC the count starts from what the GC left, even if that is higher.
  assert.equal(t.observe(12 * MB), false);
  assert.equal(t.observe(16 * MB), false);
  assert.equal(t.observe(16 * MB + 1), true);
});

it("restarts the count when V8's own GC lowers the reading", () => {
  const t = new GrowthTrigger(4 * MB);
  assert.equal(t.observe(10 * MB), false);
  assert.equal(t.observe(13 * MB), false);
  assert.equal(t.observe(2 * MB), false); // a scavenge V8 ran by itself
  assert.equal(t.observe(5 * MB), false);
  assert.equal(t.observe(6.5 * MB), true);
});

it("asks for a GC when array buffers grow past the threshold, and stops when released", async () => {
  const before = bufferReclaims();
  const release = holdBufferReclaim(4 * MB);
  // Buffers kept referenced, a megabyte per poll: the reading grows past the
  // threshold above its first one whatever V8 collects meanwhile.
  let held: Buffer[] = [];
  try {
    await waitFor(() => {
      held.push(Buffer.allocUnsafeSlow(MB));
      return bufferReclaims() > before;
    }, 20 * RECLAIM_INTERVAL_MS);
  } finally {
    release();
  }
  assert.ok(held.length > 4);
  // Released: the timer is gone, so more growth is not counted (an absence: wait a few intervals).
  const after = bufferReclaims();
  held = Array.from({ length: 16 }, () => Buffer.allocUnsafeSlow(MB));
  await new Promise((resolve) => setTimeout(resolve, 3 * RECLAIM_INTERVAL_MS));
  assert.equal(bufferReclaims(), after);
  assert.equal(held.length, 16);
});
