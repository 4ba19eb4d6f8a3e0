/**
 * Verifies a bearer JWT (DESIGN.md "Token checks"), checks in this order:
 *
 * 1. compact JWS shape (three segments; a JWE or garbage is malformed_token);
 * 2. `alg` is asymmetric: `none` and HS* are refused before any key is
 *    looked up, so an HMAC "signed" with the issuer's public key never meets
 *    that key (key confusion, RFC 8725 §2.1);
 * 3. `iss` (unverified, only to pick the issuer's keys) is a configured
 *    issuer, else wrong_issuer; the claim is checked again after the signature;
 * 4. `alg` is in that issuer's allowlist;
 * 5. jose jwtVerify: signature with the issuer's JWKS key for `kid`, then
 *    `typ` (if tokenType is set), `exp` required, `iss` exact, `aud` contains
 *    a configured audience, `nbf`/`exp` with clock tolerance at injected `now`;
 * 6. `iat`, when present, not in the future beyond the tolerance (jose checks
 *    it only together with maxTokenAge, which would make iat required): an
 *    IdP stamps iat with its own clock, so a future iat means the clocks
 *    disagree (clock_skew), also when it is what made `nbf` fail;
 * 7. sender constraint: a token bound to a client certificate
 *    (`cnf.x5t#S256`, RFC 8705) is refused, as is one bound to a DPoP key
 *    (`cnf.jkt`, RFC 9449) while DPoP is off: accepting either as a bearer
 *    token would let a thief use it without the key. With DPoP on, the
 *    key's thumbprint is returned and every call must prove possession
 *    (auth-step.ts, dpop-check.ts).
 *
 * Failures are GatewayErrors with the RFC 6750 invalid_token challenge; jose
 * errors are mapped by joseErrorReason only.
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { GatewayError } from "../errors.ts";
import { isAsymmetricAlgorithm } from "./algorithms.ts";
import type { IssuerConfig } from "./auth-config.ts";
import { joseErrorReason, joseErrorSummary } from "./jose-error-reason.ts";
import { scopesOf } from "./principal.ts";
import { invalidTokenError } from "./www-authenticate.ts";

export interface VerifiedToken {
  readonly issuer: IssuerConfig;
  readonly claims: JWTPayload;
  readonly scopes: ReadonlySet<string>;
  /** `exp` in milliseconds. */
  readonly expiresAtMs: number;
  /** The DPoP key the token is bound to (cnf.jkt), if any. */
  readonly jkt: string | undefined;
}

export interface TokenVerifierOptions {
  readonly issuers: readonly IssuerConfig[];
  readonly keysFor: (issuer: string) => JWTVerifyGetKey;
  readonly clockToleranceSeconds: number;
  readonly now: () => number;
  /** Accept DPoP-bound tokens (their proofs are checked per call). */
  readonly dpop: boolean;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const byIssuer = new Map(options.issuers.map((i) => [i.issuer, i]));
  return async (token) => {
    if (token.split(".").length !== 3) {
      throw invalidTokenError(
        "malformed_token",
        "the token is not a signed JWT (header.payload.signature)",
      );
    }
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch (err) {
      throw invalidTokenError(
        "malformed_token",
        "the token's header or payload is not valid base64url JSON",
        safeCause(err),
      );
    }
    if (!isAsymmetricAlgorithm(alg)) {
      throw invalidTokenError(
        "algorithm_not_allowed",
        `alg ${describeAlg(alg)} is never accepted (asymmetric algorithms only)`,
      );
    }
    const issuer = typeof iss === "string" ? byIssuer.get(iss) : undefined;
    if (issuer === undefined) {
      throw invalidTokenError("wrong_issuer", "the token's iss is not a configured issuer");
    }
    if (!(issuer.algorithms as readonly string[]).includes(alg)) {
      throw invalidTokenError(
        "algorithm_not_allowed",
        `alg ${alg} is not in this issuer's algorithms`,
      );
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, options.keysFor(issuer.issuer), {
        algorithms: [...issuer.algorithms],
        issuer: issuer.issuer,
        audience: [...issuer.audiences],
        requiredClaims: ["exp"],
        clockTolerance: options.clockToleranceSeconds,
        currentDate: new Date(options.now()),
        ...(issuer.tokenType === undefined ? {} : { typ: issuer.tokenType }),
      }));
    } catch (err) {
      if (err instanceof GatewayError) throw err; // jwks_unavailable from the key resolver
      const joseReason = joseErrorReason(err);
      const claimed = (err as { payload?: JWTPayload }).payload;
      const reason =
        joseReason === "token_not_yet_valid" && issuedInFuture(claimed, options)
          ? "clock_skew"
          : joseReason;
      if (reason === "jwks_unavailable" || reason === "internal") {
        throw new GatewayError(reason, "the token could not be checked", { cause: safeCause(err) });
      }
      throw invalidTokenError(reason, `the token was rejected (${reason})`, safeCause(err));
    }
    if (issuedInFuture(claims, options)) {
      throw invalidTokenError(
        "clock_skew",
        "the token's iat is in the future: the IdP's clock is ahead of the gateway's",
      );
    }
    const cnf = (typeof claims.cnf === "object" && claims.cnf !== null ? claims.cnf : {}) as Record<
      string,
      unknown
    >;
    if ("x5t#S256" in cnf) {
      throw invalidTokenError(
        "wrong_token_type",
        "the token is bound to a client certificate (cnf.x5t#S256); certificate-bound tokens are not accepted",
      );
    }
    if ("jkt" in cnf && (!options.dpop || typeof cnf.jkt !== "string")) {
      throw invalidTokenError(
        "wrong_token_type",
        options.dpop
          ? "the token's cnf.jkt is not a key thumbprint"
          : "the token is bound to a DPoP key (cnf.jkt) and DPoP is off on this gateway (auth.dpop.mode)",
      );
    }
    return {
      issuer,
      claims,
      scopes: scopesOf(claims),
      expiresAtMs: (claims.exp as number) * 1000,
      jkt: cnf.jkt as string | undefined,
    };
  };
}

/** `iat` later than now plus the tolerance. */
function issuedInFuture(claims: JWTPayload | undefined, options: TokenVerifierOptions): boolean {
  const iat = claims?.iat;
  return typeof iat === "number" && iat > options.now() / 1000 + options.clockToleranceSeconds;
}

function describeAlg(alg: unknown): string {
  return typeof alg === "string" && /^[A-Za-z0-9+-]{1,16}$/.test(alg) ? alg : "(invalid)";
}

/** jose errors carry the token's claims in `payload`/`cause`; the log gets code and claim only. */
function safeCause(err: unknown): Error {
  const { code, claim } = joseErrorSummary(err);
  return new Error(claim === undefined ? code : `${code} (${claim})`);
}
