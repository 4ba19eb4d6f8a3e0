/**
 * Every error the gateway makes itself. One closed set of reason codes, each
 * with the gRPC status it maps to and the advice a user sees in the README.
 * The client sees `grpc-message: <reason>: <message>` and the
 * `grpc-edge-reason` trailer; the original error stays in `cause` for logs.
 */
import { Code } from "./grpc-web/grpc-status.ts";

interface ReasonInfo {
  readonly code: Code;
  /** What the reason means and what to do about it (README reference). */
  readonly advice: string;
  /** Refused by authentication or policy (counted in grpc_edge_auth_failures_total). */
  readonly auth: boolean;
}

function reason(code: Code, advice: string): ReasonInfo {
  return { code, advice, auth: false };
}

/** A reason from the authentication and authorization steps. */
function authReason(code: Code, advice: string): ReasonInfo {
  return { code, advice, auth: true };
}

export const reasons = {
  // Protocol (DESIGN.md, gRPC-Web checklist).
  unsupported_media_type: reason(
    Code.UNKNOWN,
    "The request's content-type is not gRPC-Web. Send application/grpc-web[+proto|+json] or application/grpc-web-text[+proto] (HTTP 415).",
  ),
  malformed_frame: reason(
    Code.INTERNAL,
    "The request body is not a sequence of gRPC-Web frames (5-byte header + message). Check the client library.",
  ),
  invalid_base64: reason(
    Code.INTERNAL,
    "A grpc-web-text request body is not valid base64. Check the client library.",
  ),
  message_too_large: reason(
    Code.RESOURCE_EXHAUSTED,
    "A message is larger than limits.maxMessageBytes. Send smaller messages or raise the limit.",
  ),
  invalid_timeout: reason(
    Code.INVALID_ARGUMENT,
    "grpc-timeout must be 1-8 digits followed by H, M, S, m, u or n.",
  ),
  deadline_exceeded: reason(
    Code.DEADLINE_EXCEEDED,
    "The call ran past its grpc-timeout (capped at limits.maxTimeoutMs). The upstream call was cancelled.",
  ),
  // Routing.
  unknown_service: reason(
    Code.UNIMPLEMENTED,
    "No upstream lists this service in upstreams[].services. Add it, or check the method path.",
  ),
  unknown_method: reason(
    Code.UNIMPLEMENTED,
    "The descriptor set has no such method. Check the method name or regenerate the descriptor set.",
  ),
  bad_path: reason(Code.UNIMPLEMENTED, "gRPC-Web calls are POST /<package.Service>/<Method>."),
  // Upstream.
  upstream_unavailable: reason(
    Code.UNAVAILABLE,
    "The upstream could not be reached (connection refused, closed, GOAWAY or REFUSED_STREAM). Check that it runs; the gateway reconnects by itself.",
  ),
  upstream_tls: reason(
    Code.UNAVAILABLE,
    "The upstream refused the TLS handshake: the message names its alert (certificate required: no client certificate it accepts was sent; unknown CA: it does not trust the CA of upstreams[].tls.certFile; certificate expired). Upstreams on Node close without an alert; the message then says so. Fix the gateway's client certificate or the upstream's trusted CAs.",
  ),
  upstream_reset: reason(
    Code.INTERNAL,
    "The upstream reset the stream (PROTOCOL_ERROR or INTERNAL_ERROR). See the upstream's logs.",
  ),
  upstream_cancelled: reason(Code.CANCELLED, "The upstream cancelled the stream."),
  upstream_missing_status: reason(
    Code.INTERNAL,
    "The upstream ended the stream without grpc-status. It is not a correct gRPC server.",
  ),
  upstream_http_status: reason(
    Code.UNKNOWN,
    "The upstream answered with a non-gRPC HTTP response; the code follows the gRPC HTTP status mapping.",
  ),
  upstream_ping_timeout: reason(
    Code.UNAVAILABLE,
    "The connection to the upstream stopped answering HTTP/2 PINGs within upstreams[].pingTimeoutMs (dropped by a load balancer or NAT, or the upstream is stuck). The gateway closed it; new calls use a new connection. Retry.",
  ),
  upstream_compressed: reason(
    Code.INTERNAL,
    "The upstream sent a compressed message that the browser did not accept. Disable compression for this client.",
  ),
  // Fastify hooks and plugins on the gateway's routes.
  rate_limited: reason(
    Code.RESOURCE_EXHAUSTED,
    "A rate limit on the gateway's routes (e.g. @fastify/rate-limit) refused the call. Retry after the seconds in retry-after.",
  ),
  refused_by_hook: reason(
    Code.UNKNOWN,
    "A Fastify hook or plugin on the gateway's routes refused the call with an HTTP error; the code follows the gRPC HTTP status mapping (401→16, 403→7, 404→12, others→2).",
  ),
  shutting_down: reason(
    Code.UNAVAILABLE,
    "The gateway is shutting down and cancelled the call after the drain deadline. Retry on another replica.",
  ),
  // Authentication (RFC 6750 error="invalid_request"/"invalid_token").
  missing_token: authReason(
    Code.UNAUTHENTICATED,
    "The method requires a token: send `authorization: Bearer <access token>`. The metadata key must be lowercase: a client library that drops keys that are not (e.g. `Authorization`) sends no token at all.",
  ),
  malformed_token: authReason(
    Code.UNAUTHENTICATED,
    "The authorization value is not `Bearer <JWT>` with a well-formed JWT.",
  ),
  token_too_large: authReason(
    Code.UNAUTHENTICATED,
    "The authorization value is longer than auth.maxTokenBytes.",
  ),
  token_expired: authReason(
    Code.UNAUTHENTICATED,
    "The token's exp is past (beyond auth.clockToleranceSeconds). Refresh the token. If fresh tokens fail this way, the gateway's clock is ahead of the IdP's: doctor step 3 shows the skew.",
  ),
  token_not_yet_valid: authReason(
    Code.UNAUTHENTICATED,
    "The token's nbf is in the future (beyond auth.clockToleranceSeconds): it is not valid yet. Wait, or have the IdP issue it without a later nbf.",
  ),
  wrong_issuer: authReason(
    Code.UNAUTHENTICATED,
    "The token's iss is not one of auth.issuers[].issuer (compared exactly, trailing slash included).",
  ),
  wrong_audience: authReason(
    Code.UNAUTHENTICATED,
    "The token's aud does not contain the issuer's configured audience. Request the token for that audience (resource).",
  ),
  unknown_key: authReason(
    Code.UNAUTHENTICATED,
    "No key in the issuer's JWKS has the token's kid, even after a refetch. The IdP may have rotated keys away.",
  ),
  bad_signature: authReason(Code.UNAUTHENTICATED, "The token's signature does not verify."),
  algorithm_not_allowed: authReason(
    Code.UNAUTHENTICATED,
    "The token's alg is not in the issuer's allowlist (never none, never HS*).",
  ),
  wrong_token_type: authReason(
    Code.UNAUTHENTICATED,
    "The token's typ header is not the configured one (at+jwt). Send an access token, not an ID token.",
  ),
  jwks_unavailable: authReason(
    Code.UNAVAILABLE,
    "The issuer's discovery document or JWKS could not be fetched and no cached key applies. Check the IdP.",
  ),
  insufficient_scope: authReason(
    Code.PERMISSION_DENIED,
    "The token lacks a scope the method requires (listed in www-authenticate). Request those scopes at login.",
  ),
  denied_by_policy: authReason(
    Code.PERMISSION_DENIED,
    "No rule allows this method (auth.defaultPolicy is deny). Add a rule for it.",
  ),
  // DPoP, sender-constrained tokens (RFC 9449; www-authenticate: DPoP error=…).
  dpop_proof_missing: authReason(
    Code.UNAUTHENTICATED,
    "The token is sent with the DPoP scheme (or is DPoP-bound) but the call has no `dpop` proof header. Send one fresh proof per call.",
  ),
  invalid_dpop_proof: authReason(
    Code.UNAUTHENTICATED,
    "The `dpop` header is not a valid proof: not a JWT, typ not dpop+jwt, alg not allowed (auth.dpop.algorithms), jwk missing or a private key, a claim missing, or the signature does not verify.",
  ),
  dpop_proof_mismatch: authReason(
    Code.UNAUTHENTICATED,
    "The proof was made for another request: its htm, htu (the call's URL without query, as the browser sees it) or ath (hash of the access token) differs. Behind a proxy, set auth.dpop.publicUrl or trustForwardedHeaders.",
  ),
  dpop_proof_stale: authReason(
    Code.UNAUTHENTICATED,
    "The proof's iat is older than auth.dpop.maxProofAgeSeconds or in the future. Make a fresh proof per call; check the client's clock.",
  ),
  dpop_proof_replayed: authReason(
    Code.UNAUTHENTICATED,
    "A proof with this jti was already used (on this or, with a shared replay store, another replica). Make a fresh proof per call.",
  ),
  dpop_key_mismatch: authReason(
    Code.UNAUTHENTICATED,
    "The proof is signed by a key other than the one the token is bound to (cnf.jkt). The token was issued for another key.",
  ),
  use_dpop_nonce: authReason(
    Code.UNAUTHENTICATED,
    "The gateway requires a DPoP nonce (auth.dpop.requireNonce): retry with the nonce from the dpop-nonce header.",
  ),
  dpop_bound_token: authReason(
    Code.UNAUTHENTICATED,
    "The token is bound to a DPoP key (cnf.jkt) but was sent as Bearer. Send `authorization: DPoP <token>` with a proof.",
  ),
  dpop_required: authReason(
    Code.UNAUTHENTICATED,
    "The gateway accepts only DPoP-bound tokens (auth.dpop.mode: required). Ask the provider for a DPoP-bound token and send it with a proof.",
  ),
  replay_store_unavailable: authReason(
    Code.UNAVAILABLE,
    "The DPoP replay store (auth.dpop.replayStore) could not be reached, so proofs cannot be checked for reuse; DPoP calls fail closed. Check Redis.",
  ),
  // Causes told apart for troubleshooting (README "Troubleshooting"; `grpc-edge-gateway doctor`).
  upstream_not_tls: reason(
    Code.UNAVAILABLE,
    "The upstream answered the TLS handshake in plaintext: it serves HTTP/2 without TLS (h2c) or plain HTTP behind an https:// address. Turn on TLS with client-certificate checks at the upstream; the gateway always uses mutual TLS.",
  ),
  upstream_cert_untrusted: reason(
    Code.UNAVAILABLE,
    "The upstream's server certificate does not chain to a CA in upstreams[].tls.caFile (self-signed, another CA, or a chain without its intermediate). Point caFile at the CA that issued it, or have the upstream send its full chain.",
  ),
  upstream_cert_name_mismatch: reason(
    Code.UNAVAILABLE,
    "The upstream's server certificate does not name the host the gateway checks (upstreams[].tls.serverName, else the host of address). Set serverName to a name in its SANs, or reissue the certificate with that name.",
  ),
  upstream_cert_expired: reason(
    Code.UNAVAILABLE,
    "The upstream's server certificate has expired by the gateway's clock. Renew it at the upstream; if it should still be valid, check the gateway machine's clock.",
  ),
  upstream_cert_not_yet_valid: reason(
    Code.UNAVAILABLE,
    "The upstream's server certificate is not valid yet by the gateway's clock (its notBefore is ahead). Check the clocks of both machines, or reissue the certificate.",
  ),
  clock_skew: authReason(
    Code.UNAUTHENTICATED,
    "The token's iat is in the future (beyond auth.clockToleranceSeconds): the IdP's clock is ahead of the gateway's. Sync both machines with NTP; doctor step 3 shows the skew.",
  ),
  cors_origin_not_allowed: reason(
    Code.UNKNOWN,
    "A CORS preflight came from an origin not in cors.allowedOrigins, so the browser never sends the call (connect-web reports 2 UNKNOWN, Failed to fetch). Add the page's exact origin. The preflight's response carries grpc-edge-reason for the browser's network panel.",
  ),
  cors_header_not_allowed: reason(
    Code.UNKNOWN,
    "A CORS preflight asked to send a request header the gateway does not allow (the gRPC-Web set plus cors.allowedHeaders), so the browser never sends the call (connect-web reports 2 UNKNOWN, Failed to fetch). Add the header to cors.allowedHeaders; the log line names it.",
  ),
  internal: reason(Code.INTERNAL, "A bug in the gateway; the log line has the details."),
} as const satisfies Record<string, ReasonInfo>;

export type Reason = keyof typeof reasons;

export interface GatewayErrorOptions {
  /** Extra response metadata, e.g. www-authenticate. */
  readonly headers?: Readonly<Record<string, string>>;
  /** For logs only; never sent to the client. */
  readonly cause?: unknown;
  /** Overrides the reason's default gRPC code (upstream_http_status, refused_by_hook). */
  readonly code?: Code;
}

/** The one error type the gateway turns into a gRPC status. */
export class GatewayError extends Error {
  readonly reason: Reason;
  readonly code: Code;
  readonly headers: Readonly<Record<string, string>>;

  constructor(reason: Reason, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.reason = reason;
    this.code = options.code ?? reasons[reason].code;
    this.headers = options.headers ?? {};
  }

  /** The grpc-message the client sees: stable reason first, then the words. */
  get grpcMessage(): string {
    return `${this.reason}: ${this.message}`;
  }
}

/** Reasons from the authentication and authorization steps. */
export const authReasons: readonly Reason[] = (Object.keys(reasons) as Reason[]).filter(
  (r) => reasons[r].auth,
);

/** Anything thrown on the data path, as a GatewayError (bugs become `internal`). */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError("internal", "internal gateway error", { cause: err });
}
