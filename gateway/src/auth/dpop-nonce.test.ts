// Stateless server nonces: every process with the secret accepts them for
// their slot and the next; nothing else passes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDpopNonces } from "./dpop-nonce.ts";

describe("DPoP nonces", () => {
  const clock = { ms: 1_000_000_000 };
  const secret = Buffer.from("a-shared-secret-of-at-least-32-characters");
  const nonces = createDpopNonces({ secret, slotMs: 300_000, now: () => clock.ms });

  it("accepts a nonce in its slot and the next, not later", () => {
    const nonce = nonces.current();
    assert.ok(nonces.accepts(nonce));
    clock.ms += 300_000;
    assert.ok(nonces.accepts(nonce), "one rotation later");
    assert.notEqual(nonces.current(), nonce);
    clock.ms += 300_000;
    assert.ok(!nonces.accepts(nonce), "two rotations later");
  });

  it("is accepted by another replica with the same secret, not with another secret", () => {
    const replica = createDpopNonces({ secret, slotMs: 300_000, now: () => clock.ms });
    const stranger = createDpopNonces({
      secret: Buffer.from("x".repeat(40)),
      slotMs: 300_000,
      now: () => clock.ms,
    });
    assert.ok(replica.accepts(nonces.current()));
    assert.ok(!stranger.accepts(nonces.current()));
  });

  it("refuses forged, future and malformed nonces", () => {
    const [slot = ""] = nonces.current().split(".");
    assert.ok(!nonces.accepts(`${slot}.AAAAAAAAAAAAAAAAAAAAAA`));
    const future = (Number.parseInt(slot, 36) + 1).toString(36);
    assert.ok(!nonces.accepts(`${future}.${nonces.current().split(".")[1]}`));
    for (const bad of [undefined, "", ".", "zzzz", "1.2.3"])
      assert.ok(!nonces.accepts(bad), String(bad));
  });
});
