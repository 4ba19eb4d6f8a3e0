// The in-memory replay store: a proof id is accepted once until its window
// ends, and the store refuses new proofs rather than forgetting live ones.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../errors.ts";
import { createMemoryReplayStore } from "./replay-store.ts";

describe("memory replay store", () => {
  it("accepts an id once, and again after its window", async () => {
    const clock = { ms: 0 };
    const store = createMemoryReplayStore(() => clock.ms);
    assert.equal(await store.claim("a", 1000), true);
    assert.equal(await store.claim("a", 1000), false);
    assert.equal(await store.claim("b", 1000), true);
    clock.ms += 1001;
    assert.equal(await store.claim("a", 1000), true);
  });

  it("sweeps expired ids, and fails closed when full of live ones", async () => {
    const clock = { ms: 0 };
    const store = createMemoryReplayStore(() => clock.ms, 3000);
    for (let i = 0; i < 3000; i++) assert.equal(await store.claim(`old-${i}`, 10), true);
    clock.ms += 1001; // the old ids have expired; a full store sweeps at most once a second
    for (let i = 0; i < 3000; i++) assert.equal(await store.claim(`new-${i}`, 1000), true);
    await assert.rejects(store.claim("one-more", 1000), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.reason, "replay_store_unavailable");
      return true;
    });
  });
});
