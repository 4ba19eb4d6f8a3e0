import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTokenCache, tokenCacheKey } from "./token-cache.ts";

describe("createTokenCache", () => {
  it("returns an entry until its expiry, never at or after it", () => {
    const cache = createTokenCache<string>(10);
    cache.set("t", "v", 2_000, 1_000);
    assert.equal(cache.get("t", 1_999), "v");
    assert.equal(cache.get("t", 2_000), undefined);
    assert.equal(cache.size, 0, "an expired entry is dropped when seen");
  });

  it("does not store an entry that is already expired", () => {
    const cache = createTokenCache<string>(10);
    cache.set("t", "v", 1_000, 1_000);
    assert.equal(cache.size, 0);
  });

  it("evicts the least recently used entry past maxEntries", () => {
    const cache = createTokenCache<string>(2);
    cache.set("a", "A", 10_000, 0);
    cache.set("b", "B", 10_000, 0);
    assert.equal(cache.get("a", 1), "A"); // a is now the most recent
    cache.set("c", "C", 10_000, 0);
    assert.equal(cache.size, 2);
    assert.equal(cache.get("b", 1), undefined);
    assert.equal(cache.get("a", 1), "A");
    assert.equal(cache.get("c", 1), "C");
  });

  it("keys by SHA-256, not by the token", () => {
    assert.equal(tokenCacheKey("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });
});
