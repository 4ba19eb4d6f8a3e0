/**
 * Tokens broken on purpose, one per cause, from a real OpenID provider: minted
 * by it where it can (wrong audience, another issuer, RS256 where only ES256
 * is allowed), otherwise signed with its own private key with the claims of
 * the cause (expired, not yet valid, issued by a clock ahead), or with a key
 * it never published (unknown kid).
 */
import { generateKeyPair, SignJWT } from "jose";
import type { Reason } from "../../src/errors.ts";
import { claimsFor, signAsIdp } from "../auth/harness.ts";
import type { TestOidcProvider } from "./oidc-provider.ts";

/** A token and the reason the gateway (configured for `idp`, ES256, at+jwt) gives it. */
export interface BrokenToken {
  readonly token: string;
  readonly reason: Reason;
}

export type TokenCause =
  | "expired"
  | "not_yet_valid"
  | "clock_ahead"
  | "wrong_audience"
  | "wrong_issuer"
  | "unknown_kid"
  | "bad_signature"
  | "algorithm";

/**
 * Every broken token, at `nowMs` by the gateway's clock. `other` is a second
 * provider the gateway does not trust.
 */
export async function brokenTokens(
  idp: TestOidcProvider,
  other: TestOidcProvider,
  nowMs: number,
): Promise<Record<TokenCause, BrokenToken>> {
  const key = idp.signingKey("ES256");
  const seconds = Math.floor(nowMs / 1000);
  const stranger = await generateKeyPair("ES256");
  const valid = await idp.mintAccessToken({ scope: "notes:read" });
  const [header, payload, signature] = valid.split(".") as [string, string, string];
  // Same header and signature, another payload: the signature no longer matches.
  const altered = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: "mallory" }),
  ).toString("base64url");
  return {
    expired: {
      token: await signAsIdp(
        key,
        claimsFor(idp, nowMs, { iat: seconds - 7200, exp: seconds - 3600 }),
      ),
      reason: "token_expired",
    },
    not_yet_valid: {
      token: await signAsIdp(key, claimsFor(idp, nowMs, { nbf: seconds + 600 })),
      reason: "token_not_yet_valid",
    },
    clock_ahead: {
      token: await signAsIdp(
        key,
        claimsFor(idp, nowMs, { iat: seconds + 300, nbf: seconds + 300, exp: seconds + 3900 }),
      ),
      reason: "clock_skew",
    },
    wrong_audience: {
      token: await idp.mintAccessToken({ scope: "notes:read", resource: "api://billing" }),
      reason: "wrong_audience",
    },
    wrong_issuer: {
      token: await other.mintAccessToken({ scope: "notes:read" }),
      reason: "wrong_issuer",
    },
    unknown_kid: {
      token: await new SignJWT(claimsFor(idp, nowMs))
        .setProtectedHeader({ alg: "ES256", kid: "rotated-away", typ: "at+jwt" })
        .sign(stranger.privateKey),
      reason: "unknown_key",
    },
    bad_signature: { token: `${header}.${altered}.${signature}`, reason: "bad_signature" },
    algorithm: {
      token: await idp.mintAccessToken({ scope: "notes:read", alg: "RS256" }),
      reason: "algorithm_not_allowed",
    },
  };
}
