/**
 * Authentication failures as GatewayErrors carrying the RFC 6750 §3
 * `www-authenticate` challenge. The challenge never contains the token; its
 * error_description is the stable reason code, so clients can switch on it.
 */
import { GatewayError, type Reason } from "../errors.ts";

export const REALM = "grpc-edge";

/** `Bearer realm="grpc-edge"[, name="value"]…`; values are validated tokens or reason codes. */
export function bearerChallenge(params: Readonly<Record<string, string>> = {}): string {
  const parts = [`realm="${REALM}"`];
  for (const [name, value] of Object.entries(params))
    parts.push(`${name}="${value.replace(/["\\]/g, "")}"`);
  return `Bearer ${parts.join(", ")}`;
}

function withChallenge(
  reason: Reason,
  message: string,
  challenge: string,
  cause?: unknown,
): GatewayError {
  return new GatewayError(reason, message, {
    headers: { "www-authenticate": challenge },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * No credentials, or credentials of another scheme (e.g. Basic): RFC 6750
 * §3.1 says the challenge then carries no error code.
 */
export function missingTokenError(message: string, challenges = bearerChallenge()): GatewayError {
  return withChallenge("missing_token", message, challenges);
}

/** The authorization header itself is malformed (empty, several tokens, repeated): invalid_request. */
export function invalidRequestError(reason: Reason, message: string): GatewayError {
  return withChallenge(
    reason,
    message,
    bearerChallenge({ error: "invalid_request", error_description: reason }),
  );
}

/** A token was sent but is not acceptable: invalid_token with the specific reason. */
export function invalidTokenError(reason: Reason, message: string, cause?: unknown): GatewayError {
  return withChallenge(
    reason,
    message,
    bearerChallenge({ error: "invalid_token", error_description: reason }),
    cause,
  );
}

/** A valid token without every scope the method requires (RFC 6750 §3.1 insufficient_scope). */
export function insufficientScopeError(
  required: readonly string[],
  missing: readonly string[],
): GatewayError {
  return withChallenge(
    "insufficient_scope",
    `the method requires scopes: ${required.join(" ")} (missing: ${missing.join(" ")})`,
    bearerChallenge({ error: "insufficient_scope", scope: required.join(" ") }),
  );
}

/** RFC 9449 §7.1: `DPoP realm="grpc-edge", algs="ES256 …"[, name="value"]…`. */
export function dpopChallenge(
  algorithms: readonly string[],
  params: Readonly<Record<string, string>> = {},
): string {
  return bearerChallenge({ ...params, algs: algorithms.join(" ") }).replace(/^Bearer /, "DPoP ");
}

/** A proof that fails a check: error="invalid_dpop_proof" with the specific reason. */
export function invalidProofError(
  reason: Reason,
  message: string,
  algorithms: readonly string[],
  cause?: unknown,
): GatewayError {
  return withChallenge(
    reason,
    message,
    dpopChallenge(algorithms, { error: "invalid_dpop_proof", error_description: reason }),
    cause,
  );
}

/** RFC 9449 §9: the nonce to retry with, in `dpop-nonce`, and error="use_dpop_nonce". */
export function useNonceError(nonce: string, algorithms: readonly string[]): GatewayError {
  return new GatewayError("use_dpop_nonce", "retry with the nonce in the dpop-nonce header", {
    headers: {
      "www-authenticate": dpopChallenge(algorithms, {
        error: "use_dpop_nonce",
        error_description: "use_dpop_nonce",
      }),
      "dpop-nonce": nonce,
    },
  });
}

/**
 * The same refusal for a token sent with the DPoP scheme: its challenge
 * names DPoP (RFC 9449 §7.1), so a client knows which scheme was judged.
 */
export function asDpopRefusal(err: GatewayError, algorithms: readonly string[]): GatewayError {
  const challenge = err.headers["www-authenticate"];
  if (challenge === undefined || !challenge.startsWith("Bearer ")) return err;
  const params = challenge
    .slice("Bearer ".length)
    .replace(`realm="${REALM}"`, "")
    .replace(/^, /, "");
  return new GatewayError(err.reason, err.message, {
    headers: {
      ...err.headers,
      "www-authenticate": `DPoP realm="${REALM}", algs="${algorithms.join(" ")}"${params ? `, ${params}` : ""}`,
    },
    ...(err.cause === undefined ? {} : { cause: err.cause }),
  });
}
