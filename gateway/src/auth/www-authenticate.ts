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
export function missingTokenError(message: string): GatewayError {
  return withChallenge("missing_token", message, bearerChallenge());
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
