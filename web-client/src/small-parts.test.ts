// Pure helpers: the return path, refresh errors, base URLs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gatewayOrigin, isLoopbackHost } from "./gateway-origin.ts";
import { finalRefreshError } from "./refresh-error.ts";
import { safeReturnTo } from "./return-to.ts";

describe("safeReturnTo", () => {
  it("keeps same-origin paths and refuses anything that leaves the origin", () => {
    assert.equal(safeReturnTo("/notes?tab=2#top"), "/notes?tab=2#top");
    for (const bad of [
      "//evil.example/x",
      "/\\evil.example",
      "https://evil.example/",
      "notes",
      42,
      undefined,
    ]) {
      assert.equal(safeReturnTo(bad), "/", String(bad));
    }
  });
});

describe("finalRefreshError", () => {
  it("ends the session only for OAuth errors a retry cannot fix", () => {
    assert.equal(finalRefreshError({ error: "invalid_grant" }), "invalid_grant");
    assert.equal(finalRefreshError({ error: "login_required" }), "login_required");
    assert.equal(finalRefreshError({ error: "temporarily_unavailable" }), undefined);
    assert.equal(finalRefreshError({ error: "server_error" }), undefined);
    assert.equal(finalRefreshError(new TypeError("Failed to fetch")), undefined);
    assert.equal(finalRefreshError(null), undefined);
  });
});

describe("gatewayOrigin", () => {
  it("knows loopback hosts", () => {
    for (const h of [
      "localhost",
      "LOCALHOST",
      "app.localhost",
      "127.0.0.1",
      "127.9.8.7",
      "[::1]",
    ]) {
      assert.ok(isLoopbackHost(h), h);
    }
    for (const h of [
      "localhost.example.com",
      "10.0.0.1",
      "128.0.0.1",
      "[::2]",
      "127.0.0.1.nip.io",
    ]) {
      assert.ok(!isLoopbackHost(h), h);
    }
  });

  it("resolves a relative base URL against the page and names what to change", () => {
    assert.equal(gatewayOrigin("/api", "https://app.example.com/x"), "https://app.example.com");
    assert.throws(() => gatewayOrigin("http://gw.example.com"), /over plain http; use https:\/\//);
    assert.throws(() => gatewayOrigin("/api"), /not a URL/);
  });
});
