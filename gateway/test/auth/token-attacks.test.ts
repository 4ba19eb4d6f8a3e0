/**
 * Each test is named after the attack or mistake it stops, against a real
 * oidc-provider (RFC 8725 JWT BCP; RFC 6750 §3 for the challenge).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
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
let other: TestOidcProvider;
let step: AuthStep;
let clock: Clock;
let logText: () => string;
const tokensSeen: string[] = [];

before(async () => {
  [idp, other] = await Promise.all([startOidcProvider(), startOidcProvider()]);
  const started = await startStep(authConfigFor([idp]));
  ({ step, clock } = started);
  logText = started.logs.text;
});

after(async () => {
  step.close();
  await Promise.all([idp.close(), other.close()]);
});

async function expectRejected(token: string, reason: string, code = 16) {
  tokensSeen.push(token);
  const err = await rejection(check(step, call(GET, bearer(token))));
  assert.equal(err.reason, reason);
  assert.equal(err.code, code);
  assert.ok(
    !err.message.includes(token) && !err.grpcMessage.includes(token),
    "the token is never in the message",
  );
  return err;
}

describe("token attacks", () => {
  it("a real token is accepted (baseline)", async () => {
    const token = await idp.mintAccessToken({ scope: "notes:read" });
    assert.equal((await check(step, call(GET, bearer(token))))["x-auth-subject"], "gateway-tests");
  });

  it("alg: none (unsigned token) → algorithm_not_allowed", async () => {
    const token = new UnsecuredJWT(claimsFor(idp, clock.now())).encode();
    const err = await expectRejected(token, "algorithm_not_allowed");
    assert.equal(err.headers["www-authenticate"], challengeFor("algorithm_not_allowed"));
  });

  it("HS256 signed with the issuer's public key as the secret (key confusion) → algorithm_not_allowed", async () => {
    const rsa = idp.signingKey("RS256");
    const { createPublicKey } = await import("node:crypto");
    const pem = await exportSPKI(
      createPublicKey({ key: rsa.publicJwk as import("node:crypto").JsonWebKey, format: "jwk" }),
    );
    for (const secret of [
      new TextEncoder().encode(pem),
      new TextEncoder().encode(JSON.stringify(rsa.publicJwk)),
    ]) {
      const token = await new SignJWT(claimsFor(idp, clock.now()))
        .setProtectedHeader({ alg: "HS256", kid: rsa.kid, typ: "at+jwt" })
        .sign(secret);
      await expectRejected(token, "algorithm_not_allowed");
    }
  });

  it("a token from another issuer (second oidc-provider) → wrong_issuer", async () => {
    await expectRejected(await other.mintAccessToken({ scope: "notes:read" }), "wrong_issuer");
  });

  it("another issuer's key with our iss and its own kid → unknown_key", async () => {
    const token = await signAsIdp(other.signingKey("ES256"), claimsFor(idp, clock.now()));
    await expectRejected(token, "unknown_key");
  });

  it("an attacker's key with our iss and our kid → bad_signature", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const token = await signAsIdp(
      { ...idp.signingKey("ES256"), privateKey },
      claimsFor(idp, clock.now()),
    );
    await expectRejected(token, "bad_signature");
  });

  it("a real token with its payload edited (scope escalation) → bad_signature", async () => {
    const [h, p, s] = (await idp.mintAccessToken({ scope: "notes:read" })).split(".") as [
      string,
      string,
      string,
    ];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: "notes:admin" })).toString(
      "base64url",
    );
    await expectRejected(`${h}.${forged}.${s}`, "bad_signature");
  });

  it("a token for another API (resource indicator) → wrong_audience", async () => {
    await expectRejected(
      await idp.mintAccessToken({ scope: "notes:read", resource: "api://billing" }),
      "wrong_audience",
    );
  });

  it("an ID token or other JWT where an access token (typ at+jwt) is required → wrong_token_type", async () => {
    const token = await signAsIdp(idp.signingKey("RS256"), claimsFor(idp, clock.now()), {
      typ: "JWT",
    });
    await expectRejected(token, "wrong_token_type");
  });

  it("a DPoP- or certificate-bound token replayed as a bearer token → wrong_token_type", async () => {
    for (const cnf of [
      { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" },
      { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" },
    ]) {
      await expectRejected(
        await signAsIdp(idp.signingKey("ES256"), claimsFor(idp, clock.now(), { cnf })),
        "wrong_token_type",
      );
    }
  });

  it("not a JWT at all, or a JWE-shaped value → malformed_token", async () => {
    await expectRejected("not-a-jwt", "malformed_token");
    await expectRejected("a.b.c.d.e", "malformed_token");
    await expectRejected(
      "eyJhbGciOiJFUzI1NiJ9.%%%.x".replace("%%%", "bm90IGpzb24"),
      "malformed_token",
    );
  });

  it("a token over auth.maxTokenBytes → token_too_large, before any parsing", async () => {
    const big = await signAsIdp(
      idp.signingKey("ES256"),
      claimsFor(idp, clock.now(), { pad: "x".repeat(9000) }),
    );
    await expectRejected(big, "token_too_large");
  });

  it("no token / another scheme / two tokens on a protected method → missing_token / malformed_token", async () => {
    for (const header of [undefined, "Basic dXNlcjpwYXNz"]) {
      const err = await rejection(check(step, call(GET, header)));
      assert.equal(err.reason, "missing_token");
      assert.equal(err.code, 16);
      assert.equal(err.headers["www-authenticate"], 'Bearer realm="grpc-edge"');
    }
    const err = await rejection(check(step, call(GET, "Bearer a.b.c d.e.f")));
    assert.equal(err.reason, "malformed_token");
    assert.match(
      err.headers["www-authenticate"] ?? "",
      /^Bearer realm="grpc-edge", error="invalid_request"/,
    );
  });

  it("no token is ever written to the log", () => {
    const text = logText();
    for (const token of tokensSeen)
      assert.ok(!text.includes(token.slice(-40)), "a token leaked into the log");
  });
});
