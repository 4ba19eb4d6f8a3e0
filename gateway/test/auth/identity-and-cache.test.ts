/**
 * Identity metadata for the upstream and the verified-token cache, end to
 * end through createAuthStep with a real oidc-provider.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { authConfigFor, bearer, call, NOTES, rejection, startStep } from "./harness.ts";

let idp: TestOidcProvider;
before(async () => {
  idp = await startOidcProvider();
});
after(() => idp.close());

describe("identity and cache", () => {
  for (const alg of ["ES256", "RS256"] as const) {
    it(`identity headers for a good ${alg} token`, async () => {
      const { step } = await startStep(authConfigFor([idp]));
      try {
        const token = await idp.mintAccessToken({ scope: "notes:read notes:write", alg });
        assert.deepEqual(await step.check(call(`/${NOTES}/GetNote`, bearer(token))), {
          "x-auth-subject": "gateway-tests",
          "x-auth-issuer": idp.issuer,
          "x-auth-scopes": "notes:read notes:write",
          "x-auth-client-id": "gateway-tests",
        });
      } finally {
        step.close();
      }
    });
  }

  it("sends only the identity headers auth.identityHeaders lists, and still checks the token", async () => {
    for (const [identityHeaders, expected] of [
      [["x-auth-subject"], { "x-auth-subject": "gateway-tests" }],
      [[], {}],
    ] as const) {
      const { step } = await startStep(authConfigFor([idp], { identityHeaders }));
      try {
        const token = await idp.mintAccessToken({ scope: "notes:read" });
        for (let i = 0; i < 2; i++) {
          assert.deepEqual(await step.check(call(`/${NOTES}/GetNote`, bearer(token))), expected);
        }
        const wrong = await idp.mintAccessToken({ scope: "notes:read", resource: "api://other" });
        assert.equal(
          (await rejection(step.check(call(`/${NOTES}/GetNote`, bearer(wrong))))).reason,
          "wrong_audience",
        );
      } finally {
        step.close();
      }
    }
  });

  it("authorization is forwarded only with forwardAuthorization: true", async () => {
    const { step } = await startStep(authConfigFor([idp], { forwardAuthorization: true }));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read" });
      for (let i = 0; i < 2; i++) {
        const headers = await step.check(call(`/${NOTES}/GetNote`, `bearer  ${token}`));
        assert.equal(
          headers.authorization,
          `Bearer ${token}`,
          i === 0 ? "verified" : "from the cache",
        );
      }
      const plain = await startStep(authConfigFor([idp]));
      const headers = await plain.step.check(call(`/${NOTES}/GetNote`, bearer(token)));
      plain.step.close();
      assert.equal(headers.authorization, undefined);
    } finally {
      step.close();
    }
  });

  it("concurrent calls with the same new token share one verification", async () => {
    const { step } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read" });
      const calls = Array.from({ length: 10 }, () =>
        step.check(call(`/${NOTES}/GetNote`, bearer(token))),
      );
      for (const headers of await Promise.all(calls))
        assert.equal(headers["x-auth-subject"], "gateway-tests");
      assert.deepEqual(step.stats(), { verifications: 1, cacheHits: 9, cacheSize: 1 });
    } finally {
      step.close();
    }
  });

  it("checkCached answers without a promise only for a cached token with the scopes", async () => {
    const { step, clock } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 60 });
      const get = call(`/${NOTES}/GetNote`, bearer(token));
      assert.equal(step.checkCached(get), undefined, "not verified yet");
      const verified = await step.check(get);
      assert.deepEqual(step.checkCached(get), verified);
      assert.equal(step.checkCached(call(`/${NOTES}/DeleteNote`, bearer(token))), undefined);
      assert.equal(step.checkCached(call(`/${NOTES}/GetNote`, "Bearer x.y.z")), undefined);
      assert.equal(step.checkCached(call(`/${NOTES}/GetNote`)), undefined);
      clock.advance(60_000);
      assert.equal(step.checkCached(get), undefined, "expired: check() decides");
    } finally {
      step.close();
    }
  });

  it("a connection's remembered token still has its scopes and expiry checked on every call", async () => {
    const { step, clock } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 60 });
      const other = await idp.mintAccessToken({ scope: "notes:read notes:write", ttlSeconds: 600 });
      const connection = {};
      const get = call(`/${NOTES}/GetNote`, bearer(token));
      const verified = await step.check(get);
      await step.check(call(`/${NOTES}/GetNote`, bearer(other)));
      assert.deepEqual(step.checkCached(get, connection), verified, "from the cache");
      assert.deepEqual(step.checkCached(get, connection), verified, "from the connection");
      const del = call(`/${NOTES}/DeleteNote`, bearer(token));
      assert.equal(step.checkCached(del, connection), undefined, "scopes checked per method");
      const otherGet = call(`/${NOTES}/GetNote`, bearer(other));
      assert.equal(
        step.checkCached(otherGet, connection)?.["x-auth-scopes"],
        "notes:read notes:write",
        "another token on the same connection is its own principal",
      );
      clock.advance(60_000);
      assert.equal(step.checkCached(get, connection), undefined, "at exp: verify again");
      clock.advance(31_000); // past the 30 s tolerance
      assert.equal((await rejection(step.check(get))).reason, "token_expired");
    } finally {
      step.close();
    }
  });

  it("a cache hit does not re-verify, scopes are still checked per method, an expired cached token is rejected", async () => {
    const { step, clock } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 60 });
      for (let i = 0; i < 5; i++) await step.check(call(`/${NOTES}/GetNote`, bearer(token)));
      assert.deepEqual(step.stats(), { verifications: 1, cacheHits: 4, cacheSize: 1 });
      const err = await rejection(step.check(call(`/${NOTES}/DeleteNote`, bearer(token))));
      assert.equal(err.reason, "insufficient_scope");
      clock.advance(60_000 + 31_000); // past exp and the 30 s tolerance
      assert.equal(
        (await rejection(step.check(call(`/${NOTES}/GetNote`, bearer(token))))).reason,
        "token_expired",
      );
      assert.equal(
        step.stats().verifications,
        2,
        "the expired entry was not served from the cache",
      );
    } finally {
      step.close();
    }
  });
});
