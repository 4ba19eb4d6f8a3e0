/**
 * The one place where jose errors become gateway reason codes (as
 * connect-node's node-error.ts does for platform errors). It switches on
 * jose's stable `code` (and `reason`, `claim` of claim failures), never on message
 * text. Each mapping has a unit test in jose-error-reason.test.ts.
 *
 * | jose code                             | reason                          |
 * |---------------------------------------|---------------------------------|
 * | ERR_JWT_EXPIRED                       | token_expired                   |
 * | ERR_JWT_CLAIM_VALIDATION_FAILED with  |                                 |
 * |   reason missing/invalid, any claim   | malformed_token                 |
 * |   claim nbf or iat                    | token_not_yet_valid             |
 * |   claim iss                           | wrong_issuer                    |
 * |   claim aud                           | wrong_audience                  |
 * |   claim typ                           | wrong_token_type                |
 * |   any other claim                     | malformed_token                 |
 * | ERR_JOSE_ALG_NOT_ALLOWED              | algorithm_not_allowed           |
 * | ERR_JWS_SIGNATURE_VERIFICATION_FAILED | bad_signature                   |
 * | ERR_JWKS_MULTIPLE_MATCHING_KEYS       | bad_signature (none verified)   |
 * | ERR_JWKS_NO_MATCHING_KEY              | unknown_key                     |
 * | ERR_JWS_INVALID, ERR_JWT_INVALID,     | malformed_token                 |
 * | ERR_JWE_INVALID, ERR_JWE_DECRYPTION_FAILED, ERR_JOSE_NOT_SUPPORTED (crit, …) |
 * | ERR_JWKS_INVALID, ERR_JWK_INVALID,    | jwks_unavailable (the issuer's  |
 * | ERR_JWKS_TIMEOUT, ERR_JOSE_GENERIC    | keys are unusable/unreachable)  |
 * | anything else (not a jose error)      | internal                        |
 */
import type { Reason } from "../errors.ts";

interface JoseLike {
  readonly code: string;
  readonly claim?: unknown;
  /** For claim failures: "missing", "invalid" (wrong type) or "check_failed". */
  readonly reason?: unknown;
}

function isJoseError(err: unknown): err is JoseLike {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as { code?: unknown }).code;
  return typeof code === "string" && /^ERR_(JOSE|JWT|JWS|JWE|JWK|JWKS)_/.test(code);
}

const CLAIM_REASONS: Readonly<Record<string, Reason>> = {
  nbf: "token_not_yet_valid",
  iat: "token_not_yet_valid",
  iss: "wrong_issuer",
  aud: "wrong_audience",
  typ: "wrong_token_type",
};

const CODE_REASONS: Readonly<Record<string, Reason>> = {
  ERR_JWT_EXPIRED: "token_expired",
  ERR_JOSE_ALG_NOT_ALLOWED: "algorithm_not_allowed",
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: "bad_signature",
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: "bad_signature",
  ERR_JWKS_NO_MATCHING_KEY: "unknown_key",
  ERR_JWS_INVALID: "malformed_token",
  ERR_JWT_INVALID: "malformed_token",
  ERR_JWE_INVALID: "malformed_token",
  ERR_JWE_DECRYPTION_FAILED: "malformed_token",
  ERR_JOSE_NOT_SUPPORTED: "malformed_token",
  ERR_JWKS_INVALID: "jwks_unavailable",
  ERR_JWK_INVALID: "jwks_unavailable",
  ERR_JWKS_TIMEOUT: "jwks_unavailable",
  ERR_JOSE_GENERIC: "jwks_unavailable",
};

/** The reason code for an error thrown by jose while verifying a token. */
export function joseErrorReason(err: unknown): Reason {
  if (!isJoseError(err)) return "internal";
  if (err.code === "ERR_JWT_CLAIM_VALIDATION_FAILED") {
    // A required claim absent, or of the wrong type: the token is malformed,
    // whatever the claim (e.g. exp missing, nbf a string).
    if (err.reason === "missing" || err.reason === "invalid") return "malformed_token";
    return (
      (typeof err.claim === "string" ? CLAIM_REASONS[err.claim] : undefined) ?? "malformed_token"
    );
  }
  return CODE_REASONS[err.code] ?? "internal";
}

/**
 * What of a jose error may go to the log: its code and claim name. Not the
 * error itself, whose `payload` and `cause` hold the token's claims.
 */
export function joseErrorSummary(err: unknown): { readonly code: string; readonly claim?: string } {
  if (!isJoseError(err)) return { code: err instanceof Error ? err.name : "unknown" };
  return typeof err.claim === "string" ? { code: err.code, claim: err.claim } : { code: err.code };
}
