import assert from "node:assert/strict";
import { it } from "node:test";
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

/** Drops 16 KiB buffers at ~16 MB/s for `ms` (as the gateway's per-read buffers are dropped); peak arrayBuffers growth. */
async function makeBufferGarbage(ms: number): Promise<number> {
  const start = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let inFlight: Buffer[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // A few buffers stay referenced for a while, like reads not yet written on.
    inFlight = Array.from({ length: 10 }, () => Buffer.allocUnsafeSlow(16 * 1024));
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - start);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(inFlight.length, 10);
  return peak;
}

it("keeps dropped buffers from piling up between V8's own GCs, with a real minor GC", async () => {
  const before = bufferReclaims();
  const release = holdBufferReclaim(4 * MB);
  let peak: number;
  try {
    peak = await makeBufferGarbage(2500);
  } finally {
    release();
  }
  // ~40 MB of garbage went by; a reclaim every ~4 MB keeps the peak near it.
  assert.ok(bufferReclaims() - before >= 3, `${bufferReclaims() - before} reclaims`);
  assert.ok(peak < 16 * MB, `array buffers grew by up to ${(peak / MB).toFixed(1)} MB`);
  // Released: the timer is gone, nothing more is counted.
  const after = bufferReclaims();
  await makeBufferGarbage(3 * RECLAIM_INTERVAL_MS);
  assert.equal(bufferReclaims(), after);
});
