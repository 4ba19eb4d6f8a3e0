/**
 * Token lifetime checks (exp, nbf, iat) with the injected clock, against a
 * real oidc-provider: a stolen token must stop working when it expires, a
 * pre-dated one must not work early, and an IdP whose clock runs ahead is
 * named as such.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AuthStep } from "../../src/auth/auth-step.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import {
  authConfigFor,
  bearer,
  type Clock,
  call,
  check,
  claimsFor,
  NOTES,
  rejection,
  signAsIdp,
  startStep,
} from "./harness.ts";

const GET = `/${NOTES}/GetNote`;
const challengeFor = (reason: string) =>
  `Bearer realm="grpc-edge", error="invalid_token", error_description="${reason}"`;

let idp: TestOidcProvider;
let step: AuthStep;
let clock: Clock;

before(async () => {
  idp = await startOidcProvider();
  ({ step, clock } = await startStep(authConfigFor([idp])));
});

after(async () => {
  step.close();
  await idp.close();
});

async function expectRejected(token: string, reason: string) {
  const err = await rejection(check(step, call(GET, bearer(token))));
  assert.equal(err.reason, reason);
  assert.equal(err.code, 16);
  assert.equal(err.headers["www-authenticate"], challengeFor(reason));
}

describe("token lifetime", () => {
  it("an expired token (injected now past exp + tolerance) → token_expired; within tolerance it passes", async () => {
    const token = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 60 });
    const late = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 60 });
    const started = await startStep(authConfigFor([idp]));
    try {
      started.clock.advance(60_000 + 20_000); // 20 s past exp, tolerance 30 s
      await check(started.step, call(GET, bearer(late)));
      started.clock.advance(15_000); // 35 s past exp
      const err = await rejection(check(started.step, call(GET, bearer(token))));
      assert.equal(err.reason, "token_expired");
      assert.equal(err.headers["www-authenticate"], challengeFor("token_expired"));
    } finally {
      started.step.close();
    }
  });

  it("nbf in the future (beyond tolerance) → token_not_yet_valid", async () => {
    const nbf = Math.floor(clock.now() / 1000) + 120;
    await expectRejected(
      await signAsIdp(idp.signingKey("ES256"), claimsFor(idp, clock.now(), { nbf })),
      "token_not_yet_valid",
    );
  });

  it("iat in the future (an IdP clock ahead of the gateway's) → clock_skew", async () => {
    const iat = Math.floor(clock.now() / 1000) + 120;
    const claims = claimsFor(idp, clock.now(), { iat, exp: iat + 3600 });
    await expectRejected(await signAsIdp(idp.signingKey("ES256"), claims), "clock_skew");
  });

  it("nbf = iat in the future (an IdP clock ahead that also sets nbf) → clock_skew, not token_not_yet_valid", async () => {
    const iat = Math.floor(clock.now() / 1000) + 120;
    const claims = claimsFor(idp, clock.now(), { iat, nbf: iat, exp: iat + 3600 });
    await expectRejected(await signAsIdp(idp.signingKey("ES256"), claims), "clock_skew");
  });

  it("iat in the future within the tolerance passes (small skew is expected)", async () => {
    const iat = Math.floor(clock.now() / 1000) + 20;
    const claims = claimsFor(idp, clock.now(), { iat, nbf: iat, exp: iat + 3600 });
    await check(step, call(GET, bearer(await signAsIdp(idp.signingKey("ES256"), claims))));
  });

  it("a token without exp (would never expire) → malformed_token", async () => {
    const { exp: _exp, ...claims } = claimsFor(idp, clock.now());
    await expectRejected(await signAsIdp(idp.signingKey("ES256"), claims), "malformed_token");
  });
});
