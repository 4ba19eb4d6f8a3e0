/**
 * What a verified token says about the caller: its scopes, and the identity
 * metadata the upstream receives (DESIGN.md "Names"). Inbound x-auth-* are
 * stripped by the gateway's header rewrite; these replace them.
 */
import type { JWTPayload } from "jose";
import { encodeGrpcMessage } from "../grpc-web/grpc-status.ts";
import { IDENTITY_HEADERS, type IdentityHeader } from "./auth-config.ts";

/**
 * Scopes from `scope` (RFC 8693/9068: space-separated string) and `scp`
 * (an array in Okta and others; a space-separated string in Entra ID).
 * Values of other types are ignored, i.e. grant no scope.
 */
export function scopesOf(claims: JWTPayload): ReadonlySet<string> {
  const scopes = new Set<string>();
  for (const value of [claims.scope, claims.scp]) {
    const list = typeof value === "string" ? value.split(" ") : Array.isArray(value) ? value : [];
    for (const s of list) if (typeof s === "string" && s !== "") scopes.add(s);
  }
  return scopes;
}

/** The required scopes the token lacks (empty: allowed). */
export function missingScopes(required: readonly string[], granted: ReadonlySet<string>): string[] {
  return required.filter((s) => !granted.has(s));
}

/**
 * Header values are sent as they are when printable ASCII; anything else
 * (and `%`) is percent-encoded like grpc-message, so a claim can never inject
 * a header line or break HTTP/2 header validation.
 */
function headerValue(value: string): string {
  return encodeGrpcMessage(value);
}

/**
 * x-auth-subject (sub), x-auth-issuer (iss), x-auth-scopes (space-separated),
 * x-auth-client-id (client_id, else azp), each only when the claim is
 * present and the header is among `sent` (auth.identityHeaders).
 * (`authorization`, when forwarded, is added per call by index.ts.)
 */
export function identityHeaders(
  claims: JWTPayload,
  scopes: ReadonlySet<string>,
  sent: readonly IdentityHeader[] = IDENTITY_HEADERS,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const clientId = typeof claims.client_id === "string" ? claims.client_id : claims.azp;
  const claim: Record<IdentityHeader, unknown> = {
    "x-auth-subject": claims.sub,
    "x-auth-issuer": claims.iss,
    "x-auth-scopes": [...scopes].join(" "),
    "x-auth-client-id": clientId,
  };
  for (const name of sent) {
    const value = claim[name];
    if (typeof value === "string") headers[name] = headerValue(value);
  }
  return headers;
}
