/**
 * Identity metadata for the upstream and the verified-token cache, end to
 * end through createAuthStep with a real oidc-provider.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayError } from "../../src/errors.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import {
  answerOf,
  authConfigFor,
  bearer,
  call,
  check,
  NOTES,
  rejection,
  startStep,
} from "./harness.ts";

/** The reason of an error authorize() threw at once. */
const reasonOf = (answer: unknown): string | undefined =>
  answer instanceof GatewayError ? answer.reason : undefined;

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
        assert.deepEqual(await check(step, call(`/${NOTES}/GetNote`, bearer(token))), {
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
          assert.deepEqual(await check(step, call(`/${NOTES}/GetNote`, bearer(token))), expected);
        }
        const wrong = await idp.mintAccessToken({ scope: "notes:read", resource: "api://other" });
        assert.equal(
          (await rejection(check(step, call(`/${NOTES}/GetNote`, bearer(wrong))))).reason,
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
        const headers = await check(step, call(`/${NOTES}/GetNote`, `bearer  ${token}`));
        assert.equal(
          headers.authorization,
          `Bearer ${token}`,
          i === 0 ? "verified" : "from the cache",
        );
      }
      const plain = await startStep(authConfigFor([idp]));
      const headers = await check(plain.step, call(`/${NOTES}/GetNote`, bearer(token)));
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
        check(step, call(`/${NOTES}/GetNote`, bearer(token))),
      );
      for (const headers of await Promise.all(calls))
        assert.equal(headers["x-auth-subject"], "gateway-tests");
      assert.deepEqual(step.stats(), { verifications: 1, cacheHits: 9, cacheSize: 1 });
    } finally {
      step.close();
    }
  });

  it("authorize answers at once only for a cached token with the method's scopes", async () => {
    const { step, clock } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 60 });
      const get = call(`/${NOTES}/GetNote`, bearer(token));
      assert.equal(answerOf(step, get), "pending", "not verified yet");
      const verified = await check(step, get);
      assert.deepEqual(answerOf(step, get), verified);
      assert.equal(
        reasonOf(answerOf(step, call(`/${NOTES}/DeleteNote`, bearer(token)))),
        "insufficient_scope",
      );
      assert.notEqual(typeof answerOf(step, call(`/${NOTES}/GetNote`, "Bearer x.y.z")), "object");
      assert.equal(reasonOf(answerOf(step, call(`/${NOTES}/GetNote`))), "missing_token");
      clock.advance(60_000);
      assert.equal(answerOf(step, get), "pending", "expired: verified again");
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
      const verified = await check(step, get);
      await check(step, call(`/${NOTES}/GetNote`, bearer(other)));
      assert.deepEqual(answerOf(step, get, connection), verified, "from the cache");
      assert.deepEqual(answerOf(step, get, connection), verified, "from the connection");
      const del = call(`/${NOTES}/DeleteNote`, bearer(token));
      assert.equal(
        reasonOf(answerOf(step, del, connection)),
        "insufficient_scope",
        "scopes checked per method",
      );
      const otherGet = call(`/${NOTES}/GetNote`, bearer(other));
      const otherAnswer = answerOf(step, otherGet, connection);
      assert.equal(
        typeof otherAnswer === "object" && !(otherAnswer instanceof GatewayError)
          ? otherAnswer["x-auth-scopes"]
          : otherAnswer,
        "notes:read notes:write",
        "another token on the same connection is its own principal",
      );
      clock.advance(60_000);
      const again = step.authorize(get, connection);
      assert.ok(again instanceof Promise, "at exp: verify again");
      await again; // still within the clock tolerance
      clock.advance(31_000); // past the 30 s tolerance
      assert.equal((await rejection(check(step, get))).reason, "token_expired");
    } finally {
      step.close();
    }
  });

  it("a cache hit does not re-verify, scopes are still checked per method, an expired cached token is rejected", async () => {
    const { step, clock } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 60 });
      for (let i = 0; i < 5; i++) await check(step, call(`/${NOTES}/GetNote`, bearer(token)));
      assert.deepEqual(step.stats(), { verifications: 1, cacheHits: 4, cacheSize: 1 });
      const err = await rejection(check(step, call(`/${NOTES}/DeleteNote`, bearer(token))));
      assert.equal(err.reason, "insufficient_scope");
      clock.advance(60_000 + 31_000); // past exp and the 30 s tolerance
      assert.equal(
        (await rejection(check(step, call(`/${NOTES}/GetNote`, bearer(token))))).reason,
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
