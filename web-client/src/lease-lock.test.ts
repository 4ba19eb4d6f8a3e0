// The lease that stands in for Web Locks: tabs sharing one atomic lease store
// never run their tasks at once, and a dead holder's lease runs out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLeaseLock, type LeaseStore } from "./lease-lock.ts";

/** An atomic lease store, as IndexedDB's readwrite transaction makes it. */
function memoryLeases(): LeaseStore & {
  held(): boolean;
  put(owner: string, untilMs: number): void;
} {
  let lease: { owner: string; untilMs: number } | undefined;
  return {
    async tryTake(owner, untilMs, nowMs) {
      if (lease !== undefined && lease.untilMs > nowMs && lease.owner !== owner) return false;
      lease = { owner, untilMs };
      return true;
    },
    async release(owner) {
      if (lease?.owner === owner) lease = undefined;
    },
    held: () => lease !== undefined,
    put(owner, untilMs) {
      lease = { owner, untilMs };
    },
  };
}

describe("lease lock (no Web Locks)", () => {
  it("lets one tab at a time run, whatever the start order", async () => {
    const leases = memoryLeases();
    const tabs = [1, 2, 3].map(() => createLeaseLock(leases, { pollMs: 2 }));
    let inside = 0;
    let most = 0;
    let ran = 0;
    await Promise.all(
      tabs.flatMap((lock) =>
        [0, 1].map(() =>
          lock(async () => {
            inside++;
            most = Math.max(most, inside);
            await new Promise((r) => setTimeout(r, 5));
            ran++;
            inside--;
          }),
        ),
      ),
    );
    assert.equal(most, 1);
    assert.equal(ran, 6);
    assert.equal(leases.held(), false, "released");
  });

  it("releases on failure, and takes over a lease whose holder died", async () => {
    const leases = memoryLeases();
    const lock = createLeaseLock(leases, { pollMs: 2 });
    await assert.rejects(
      lock(() => Promise.reject(new Error("refresh failed"))),
      /refresh failed/,
    );
    assert.equal(leases.held(), false);
    leases.put("a tab that died", Date.now() + 40);
    const started = Date.now();
    assert.equal(await lock(async () => "ran"), "ran");
    assert.ok(Date.now() - started >= 35, "waited for the lease to run out");
  });
});
