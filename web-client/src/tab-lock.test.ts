// The localStorage lease that stands in for Web Locks: two "tabs" sharing one
// storage never run their tasks at once, and a dead holder's lease runs out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLeaseLock } from "./tab-lock.ts";

function mapStorage() {
  const map = new Map<string, string>();
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
    map,
  };
}

describe("lease lock (no Web Locks)", () => {
  it("lets one tab at a time run, whatever the start order", async () => {
    const storage = mapStorage();
    const tabs = [1, 2, 3].map(() => createLeaseLock(storage, "lock", { settleMs: 5, pollMs: 5 }));
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      tabs.flatMap((lock, i) =>
        [0, 1].map(() =>
          lock(async () => {
            inside++;
            most = Math.max(most, inside);
            await new Promise((r) => setTimeout(r, 10));
            order.push(i);
            inside--;
          }),
        ),
      ),
    );
    assert.equal(most, 1);
    assert.equal(order.length, 6);
    assert.equal(storage.map.size, 0, "released");
  });

  it("releases on failure, and takes over a lease whose holder died", async () => {
    const storage = mapStorage();
    const lock = createLeaseLock(storage, "lock", { settleMs: 1, pollMs: 5 });
    await assert.rejects(
      lock(() => Promise.reject(new Error("refresh failed"))),
      /refresh failed/,
    );
    assert.equal(storage.map.size, 0);
    storage.setItem("lock", JSON.stringify({ owner: "dead tab", until: Date.now() + 40 }));
    const started = Date.now();
    assert.equal(await lock(async () => "ran"), "ran");
    assert.ok(Date.now() - started >= 35, "waited for the lease to run out");
  });
});
