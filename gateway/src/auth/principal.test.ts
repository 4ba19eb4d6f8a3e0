import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { identityHeaders, missingScopes, scopesOf } from "./principal.ts";

describe("scopesOf", () => {
  it("reads scope (space-separated) and scp (array or string)", () => {
    assert.deepEqual([...scopesOf({ scope: "a  b" })], ["a", "b"]);
    assert.deepEqual([...scopesOf({ scp: ["a", "c", 3] })], ["a", "c"]);
    assert.deepEqual([...scopesOf({ scp: "x y" })], ["x", "y"]);
    assert.deepEqual([...scopesOf({ scope: "a", scp: ["b"] })], ["a", "b"]);
    assert.deepEqual([...scopesOf({ scope: 42 })], []);
  });
});

describe("missingScopes", () => {
  it("lists every required scope the token lacks", () => {
    assert.deepEqual(missingScopes(["a", "b", "c"], new Set(["b"])), ["a", "c"]);
    assert.deepEqual(missingScopes([], new Set()), []);
  });
});

describe("identityHeaders", () => {
  it("maps sub, iss, scopes and client_id (else azp)", () => {
    const claims = { sub: "alice", iss: "https://idp", client_id: "web", azp: "other" };
    assert.deepEqual(identityHeaders(claims, new Set(["a", "b"])), {
      "x-auth-subject": "alice",
      "x-auth-issuer": "https://idp",
      "x-auth-scopes": "a b",
      "x-auth-client-id": "web",
    });
    assert.equal(identityHeaders({ azp: "spa" }, new Set())["x-auth-client-id"], "spa");
  });

  it("sends only the headers auth.identityHeaders lists", () => {
    const claims = { sub: "alice", iss: "https://idp", client_id: "web" };
    assert.deepEqual(identityHeaders(claims, new Set(["a"]), ["x-auth-scopes"]), {
      "x-auth-scopes": "a",
    });
    assert.deepEqual(identityHeaders(claims, new Set(["a"]), []), {});
  });

  it("percent-encodes values that are not printable ASCII, so a claim cannot inject a header", () => {
    const h = identityHeaders(
      { sub: "eve\r\nx-auth-scopes: admin", iss: "https://idp/é" },
      new Set(),
    );
    assert.equal(h["x-auth-subject"], "eve%0D%0Ax-auth-scopes: admin");
    assert.equal(h["x-auth-issuer"], "https://idp/%C3%A9");
  });
});
