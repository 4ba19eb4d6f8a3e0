import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configErrorKey } from "../../test/support/config-error.ts";
import { ASYMMETRIC_ALGORITHMS } from "./algorithms.ts";
import { parseAuthConfig } from "./auth-config.ts";

const issuer = { issuer: "https://idp.example.com", audiences: ["api://notes"] };
const base = { issuers: [issuer] };

const keyOf = (rawAuth: unknown): string => configErrorKey(() => parseAuthConfig(rawAuth));

describe("parseAuthConfig", () => {
  it("applies the documented defaults (closed by default)", () => {
    const c = parseAuthConfig(base);
    assert.equal(c.defaultPolicy, "deny");
    assert.equal(c.clockToleranceSeconds, 30);
    assert.equal(c.maxTokenBytes, 8192);
    assert.equal(c.forwardAuthorization, false);
    assert.deepEqual(c.identityHeaders, [
      "x-auth-subject",
      "x-auth-issuer",
      "x-auth-scopes",
      "x-auth-client-id",
    ]);
    assert.deepEqual(c.rules, []);
    assert.deepEqual(c.issuers[0]?.algorithms, ASYMMETRIC_ALGORITHMS);
    assert.equal(c.issuers[0]?.jwksUri, undefined);
    assert.equal(c.issuers[0]?.tokenType, undefined);
  });

  it("reads the documented example", () => {
    const c = parseAuthConfig({
      issuers: [
        {
          ...issuer,
          jwksUri: "https://idp.example.com/keys",
          algorithms: ["ES256", "RS256"],
          tokenType: "at+jwt",
        },
      ],
      clockToleranceSeconds: 10,
      defaultPolicy: "authenticated",
      rules: [
        { methods: ["/grpc.health.v1.Health/*"], policy: "public" },
        { methods: ["/demo.notes.v1.NotesService/DeleteNote"], scopes: ["notes:admin"] },
        { methods: ["/demo.notes.v1.NotesService/*"], policy: "authenticated" },
      ],
      forwardAuthorization: true,
      maxTokenBytes: 4096,
    });
    assert.equal(c.issuers[0]?.jwksUri?.href, "https://idp.example.com/keys");
    assert.deepEqual(c.issuers[0]?.algorithms, ["ES256", "RS256"]);
    assert.equal(c.rules[1]?.policy, "authenticated"); // scopes without policy
    assert.deepEqual(c.rules[1]?.scopes, ["notes:admin"]);
    assert.equal(c.forwardAuthorization, true);
    assert.equal(c.maxTokenBytes, 4096);
  });

  it("issuer URLs must be https, except loopback", () => {
    assert.equal(
      keyOf({ issuers: [{ ...issuer, issuer: "http://idp.example.com" }] }),
      "auth.issuers[0].issuer",
    );
    assert.equal(
      keyOf({ issuers: [{ ...issuer, jwksUri: "http://idp.example.com/jwks" }] }),
      "auth.issuers[0].jwksUri",
    );
    for (const ok of [
      "http://127.0.0.1:8080",
      "http://localhost:9000/realms/x",
      "http://[::1]:1",
    ]) {
      parseAuthConfig({ issuers: [{ ...issuer, issuer: ok }] });
    }
  });

  it("none and HS* are refused in algorithms, naming the entry", () => {
    assert.equal(
      keyOf({ issuers: [{ ...issuer, algorithms: ["ES256", "none"] }] }),
      "auth.issuers[0].algorithms[1]",
    );
    assert.equal(
      keyOf({ issuers: [{ ...issuer, algorithms: ["HS256"] }] }),
      "auth.issuers[0].algorithms[0]",
    );
    assert.equal(keyOf({ issuers: [{ ...issuer, algorithms: [] }] }), "auth.issuers[0].algorithms");
  });

  it("identityHeaders: a subset of the four x-auth-* names, [] for none", () => {
    const parse = (identityHeaders: unknown) =>
      parseAuthConfig({ ...base, identityHeaders }).identityHeaders;
    assert.deepEqual(parse([]), []);
    assert.deepEqual(parse(["x-auth-scopes", "x-auth-subject"]), [
      "x-auth-scopes",
      "x-auth-subject",
    ]);
    assert.equal(keyOf({ ...base, identityHeaders: ["x-auth-user"] }), "auth.identityHeaders[0]");
    assert.equal(
      keyOf({ ...base, identityHeaders: ["x-auth-subject", "x-auth-subject"] }),
      "auth.identityHeaders[1]",
    );
    assert.equal(keyOf({ ...base, identityHeaders: "x-auth-subject" }), "auth.identityHeaders");
    assert.equal(keyOf({ ...base, identityHeaders: false }), "auth.identityHeaders");
  });

  it("names the key of each wrong value", () => {
    assert.equal(keyOf(undefined), "auth");
    assert.equal(keyOf({}), "auth.issuers");
    assert.equal(keyOf({ issuers: [{ issuer: "https://x" }] }), "auth.issuers[0].audiences");
    assert.equal(keyOf({ issuers: [issuer, issuer] }), "auth.issuers[1].issuer");
    assert.equal(keyOf({ ...base, defaultPolicy: "allow" }), "auth.defaultPolicy");
    assert.equal(keyOf({ ...base, clockToleranceSeconds: -1 }), "auth.clockToleranceSeconds");
    assert.equal(keyOf({ ...base, maxTokenBytes: "8k" }), "auth.maxTokenBytes");
    assert.equal(keyOf({ ...base, forwardAuthorization: "yes" }), "auth.forwardAuthorization");
    assert.equal(keyOf({ ...base, issuer: "https://x" }), "auth.issuer");
  });

  it("rules: public + scopes, empty scopes, no policy nor scopes, unknown policy", () => {
    assert.equal(
      keyOf({ ...base, rules: [{ methods: ["*"], policy: "public", scopes: ["a"] }] }),
      "auth.rules[0].scopes",
    );
    assert.equal(
      keyOf({ ...base, rules: [{ methods: ["*"], scopes: [] }] }),
      "auth.rules[0].scopes",
    );
    assert.equal(keyOf({ ...base, rules: [{ methods: ["*"] }] }), "auth.rules[0].policy");
    assert.equal(
      keyOf({ ...base, rules: [{ methods: ["*"], policy: "allow" }] }),
      "auth.rules[0].policy",
    );
    assert.equal(
      keyOf({ ...base, rules: [{ methods: [], policy: "public" }] }),
      "auth.rules[0].methods",
    );
    assert.equal(
      keyOf({ ...base, rules: [{ methods: ["*"], scopes: ['a"b'] }] }),
      "auth.rules[0].scopes[0]",
    );
  });

  it("rules: malformed method path and duplicate entries fail at parse time", () => {
    assert.equal(
      keyOf({ ...base, rules: [{ methods: ["/a.B/C", "a.B/D"], policy: "public" }] }),
      "auth.rules[0].methods[1]",
    );
    assert.equal(
      keyOf({
        ...base,
        rules: [
          { methods: ["/a.B/C"], policy: "public" },
          { methods: ["/a.B/C"], policy: "deny" },
        ],
      }),
      "auth.rules[1].methods[0]",
    );
  });
});
