/**
 * Which refresh failures are final. OAuth error codes from the token endpoint
 * (RFC 6749 §5.2, OIDC Core §3.1.2.6) that no retry can fix mean the session is
 * over; anything else (network errors, timeouts, 5xx, `temporarily_unavailable`)
 * may pass and is retried later with backoff.
 */
const final = new Set([
  "invalid_grant",
  "invalid_client",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "access_denied",
  "login_required",
  "interaction_required",
  "consent_required",
  "account_selection_required",
  "invalid_dpop_proof",
]);

/** The OAuth error code if `error` ends the session for good, else undefined. */
export function finalRefreshError(error: unknown): string | undefined {
  // oidc-client-ts throws ErrorResponse with the provider's `error` field.
  const code = (error as { error?: unknown } | null)?.error;
  return typeof code === "string" && final.has(code) ? code : undefined;
}
