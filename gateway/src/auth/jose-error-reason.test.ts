import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as jose from "jose/errors";
import { joseErrorReason, joseErrorSummary } from "./jose-error-reason.ts";

const claims = { sub: "alice", iss: "https://idp.example.com" };
const claimFailure = (claim: string) =>
  new jose.JWTClaimValidationFailed("x", claims, claim, "check_failed");

describe("joseErrorReason: one mapping per jose error", () => {
  const cases: Array<[string, unknown, string]> = [
    ["JWTExpired", new jose.JWTExpired("x", claims, "exp", "check_failed"), "token_expired"],
    ["claim nbf", claimFailure("nbf"), "token_not_yet_valid"],
    ["claim iat", claimFailure("iat"), "token_not_yet_valid"],
    ["claim iss", claimFailure("iss"), "wrong_issuer"],
    ["claim aud", claimFailure("aud"), "wrong_audience"],
    ["claim typ", claimFailure("typ"), "wrong_token_type"],
    [
      "claim exp missing",
      new jose.JWTClaimValidationFailed("x", claims, "exp", "missing"),
      "malformed_token",
    ],
    ["claim other", claimFailure("sub"), "malformed_token"],
    [
      "claim nbf of the wrong type",
      new jose.JWTClaimValidationFailed("x", claims, "nbf", "invalid"),
      "malformed_token",
    ],
    [
      "claim aud missing",
      new jose.JWTClaimValidationFailed("x", claims, "aud", "missing"),
      "malformed_token",
    ],
    ["JOSEAlgNotAllowed", new jose.JOSEAlgNotAllowed("x"), "algorithm_not_allowed"],
    ["JWSSignatureVerificationFailed", new jose.JWSSignatureVerificationFailed(), "bad_signature"],
    ["JWKSMultipleMatchingKeys", new jose.JWKSMultipleMatchingKeys(), "bad_signature"],
    ["JWKSNoMatchingKey", new jose.JWKSNoMatchingKey(), "unknown_key"],
    ["JWSInvalid", new jose.JWSInvalid("x"), "malformed_token"],
    ["JWTInvalid", new jose.JWTInvalid("x"), "malformed_token"],
    ["JWEInvalid", new jose.JWEInvalid("x"), "malformed_token"],
    ["JWEDecryptionFailed", new jose.JWEDecryptionFailed(), "malformed_token"],
    ["JOSENotSupported", new jose.JOSENotSupported("x"), "malformed_token"],
    ["JWKSInvalid", new jose.JWKSInvalid("x"), "jwks_unavailable"],
    ["JWKInvalid", new jose.JWKInvalid("x"), "jwks_unavailable"],
    ["JWKSTimeout", new jose.JWKSTimeout(), "jwks_unavailable"],
    ["JOSEError (generic)", new jose.JOSEError("x"), "jwks_unavailable"],
    ["TypeError (not jose)", new TypeError("x"), "internal"],
    ["not an Error", "ERR_JWT_EXPIRED", "internal"],
  ];
  for (const [name, err, reason] of cases) {
    it(`${name} → ${reason}`, () => {
      assert.equal(joseErrorReason(err), reason);
    });
  }

  it("every jose error class exported by jose/errors has a mapping (none falls to internal)", () => {
    for (const [name, value] of Object.entries(jose)) {
      if (typeof value !== "function" || typeof (value as { code?: unknown }).code !== "string")
        continue;
      const code = (value as unknown as { code: string }).code;
      const sample = Object.assign(new Error(name), { code });
      assert.notEqual(joseErrorReason(sample), "internal", `${name} (${code}) is unmapped`);
    }
  });
});

describe("joseErrorSummary", () => {
  it("keeps the code and claim name, never the payload", () => {
    const summary = joseErrorSummary(claimFailure("aud"));
    assert.deepEqual(summary, { code: "ERR_JWT_CLAIM_VALIDATION_FAILED", claim: "aud" });
    assert.ok(!JSON.stringify(summary).includes("alice"));
  });
});
