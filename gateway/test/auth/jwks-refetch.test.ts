/**
 * The issuer's keys under stress, against a real oidc-provider: a flood of
 * unknown kids must not turn the gateway into a JWKS request amplifier, key
 * rotation must be picked up, and an IdP outage must not break calls while
 * the cached keys are good. Time is the injected clock, never a real wait.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { generateKeyPair } from "jose";
import { KEY_DEFAULTS } from "../../src/auth/issuer-keys.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import {
  authConfigFor,
  bearer,
  call,
  check,
  claimsFor,
  NOTES,
  rejection,
  signAsIdp,
  startStep,
} from "./harness.ts";

const GET = `/${NOTES}/GetNote`;
const { cooldownMs, emptyRetryMs, refreshMs } = KEY_DEFAULTS;

let idp: TestOidcProvider;
before(async () => {
  idp = await startOidcProvider({ accessTokenTtlSeconds: 7200 });
});
after(() => idp.close());

/** Tokens with our iss but kids the IdP never published (an attacker's key). */
async function unknownKidTokens(n: number, nowMs: number): Promise<string[]> {
  const { privateKey } = await generateKeyPair("ES256");
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      signAsIdp({ kid: `unknown-${nowMs}-${i}`, alg: "ES256", privateKey }, claimsFor(idp, nowMs)),
    ),
  );
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(10);
  assert.ok(condition(), `timed out waiting for ${what}`);
}

describe("JWKS refetch", () => {
  it("a flood of unknown kids → at most one JWKS fetch per cooldown", async () => {
    const { step, clock } = await startStep(authConfigFor([idp]));
    try {
      const start = idp.jwksFetchCount(); // the start-up fetch is already counted
      const flood = async () => {
        const tokens = await unknownKidTokens(50, clock.now());
        const errors = await Promise.all(
          tokens.map((t) => rejection(check(step, call(GET, bearer(t))))),
        );
        for (const err of errors) assert.equal(err.reason, "unknown_key");
        for (const t of await unknownKidTokens(10, clock.now()))
          await rejection(check(step, call(GET, bearer(t))));
      };
      await flood();
      assert.equal(
        idp.jwksFetchCount(),
        start,
        "within the cooldown of the start-up fetch: no fetch",
      );
      clock.advance(cooldownMs);
      await flood();
      assert.equal(
        idp.jwksFetchCount(),
        start + 1,
        "after the cooldown: exactly one fetch for 60 unknown kids",
      );
      clock.advance(cooldownMs / 2);
      await flood();
      assert.equal(idp.jwksFetchCount(), start + 1);
    } finally {
      step.close();
    }
  });

  it("key rotation at the IdP → the new kid is accepted after one refetch, the removed key's tokens are not", async () => {
    const { step, clock } = await startStep(authConfigFor([idp]));
    try {
      const oldToken = await idp.mintAccessToken({ scope: "notes:read" });
      await idp.rotateKeys();
      const newToken = await idp.mintAccessToken({ scope: "notes:read", alg: "RS256" });
      clock.advance(cooldownMs);
      const before = idp.jwksFetchCount();
      const headers = await check(step, call(GET, bearer(newToken)));
      assert.equal(headers["x-auth-issuer"], idp.issuer);
      assert.equal(idp.jwksFetchCount(), before + 1);
      assert.equal(
        (await rejection(check(step, call(GET, bearer(oldToken))))).reason,
        "unknown_key",
      );
      assert.equal(
        idp.jwksFetchCount(),
        before + 1,
        "the cooldown also holds right after a rotation",
      );
    } finally {
      step.close();
    }
  });

  it("an IdP that is down does not break calls while cached keys are valid, and is not hammered", async () => {
    const { step, clock, logs } = await startStep(authConfigFor([idp]));
    try {
      const tokens = await Promise.all(
        [1, 2, 3].map(() => idp.mintAccessToken({ scope: "notes:read" })),
      );
      idp.setAvailable(false);
      clock.advance(refreshMs); // keys are now due for a refresh
      const before = idp.requestCount();
      await check(step, call(GET, bearer(tokens[0] as string)));
      await until(() => idp.requestCount() === before + 1, "the background refresh attempt");
      await until(() => logs.text().includes("still using the cached ones"), "the warning");
      await check(step, call(GET, bearer(tokens[1] as string)));
      for (const t of await unknownKidTokens(20, clock.now()))
        await rejection(check(step, call(GET, bearer(t))));
      assert.equal(
        idp.requestCount(),
        before + 1,
        "one attempt per cooldown while the IdP is down",
      );
      clock.advance(cooldownMs);
      await check(step, call(GET, bearer(tokens[2] as string)));
      await until(() => idp.requestCount() === before + 2, "the next attempt, one cooldown later");
    } finally {
      idp.setAvailable(true);
      step.close();
    }
  });

  it("an IdP down at start-up: start-up succeeds with a warning, calls get jwks_unavailable (14), then recover", async () => {
    idp.setAvailable(false);
    const { step, clock, logs } = await startStep(authConfigFor([idp]));
    try {
      assert.match(logs.text(), /cannot fetch the issuer's keys/);
      const token = await (async () => {
        idp.setAvailable(true);
        const t = await idp.mintAccessToken({ scope: "notes:read" });
        idp.setAvailable(false);
        return t;
      })();
      const err = await rejection(check(step, call(GET, bearer(token))));
      assert.equal(err.reason, "jwks_unavailable");
      assert.equal(err.code, 14);
      idp.setAvailable(true);
      assert.equal(
        (await rejection(check(step, call(GET, bearer(token))))).reason,
        "jwks_unavailable",
        "retry waits",
      );
      clock.advance(emptyRetryMs);
      assert.equal(
        (await check(step, call(GET, bearer(token))))["x-auth-subject"],
        "gateway-tests",
      );
    } finally {
      idp.setAvailable(true);
      step.close();
    }
  });

  it("a discovery document naming another issuer (trailing-slash mismatch) is not trusted", async () => {
    const issuer = `${idp.issuer}/`;
    const config = authConfigFor([idp], { issuers: [{ issuer, audiences: [idp.resource] }] });
    const { step, clock, logs } = await startStep(config);
    try {
      assert.match(logs.text(), /names issuer/);
      const token = await signAsIdp(
        idp.signingKey("ES256"),
        claimsFor(idp, clock.now(), { iss: issuer }),
      );
      assert.equal(
        (await rejection(check(step, call(GET, bearer(token))))).reason,
        "jwks_unavailable",
      );
    } finally {
      step.close();
    }
  });
});
