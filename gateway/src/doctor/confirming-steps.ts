/**
 * Which doctor steps confirm each reason code: the README's troubleshooting
 * table is generated from this and errors.ts (scripts/reasons-table.ts). A
 * reason without steps comes from the client's own bytes or timing, from
 * compression, or from a bug, none of which the doctor's calls reproduce.
 */
import type { Reason } from "../errors.ts";
import type { StepName } from "./report.ts";

export const CONFIRMING_STEPS: Partial<Record<Reason, readonly StepName[]>> = {
  unknown_service: ["config", "gateway"],
  unknown_method: ["config", "gateway"],
  bad_path: ["config"],
  upstream_unavailable: ["upstreams", "gateway"],
  upstream_tls: ["config", "upstreams", "gateway"],
  upstream_reset: ["upstreams", "gateway"],
  upstream_cancelled: ["upstreams", "gateway"],
  upstream_missing_status: ["upstreams", "gateway"],
  upstream_http_status: ["upstreams", "gateway"],
  rate_limited: ["gateway"],
  refused_by_hook: ["gateway"],
  shutting_down: ["gateway"],
  missing_token: ["gateway"],
  malformed_token: ["token"],
  token_too_large: ["token"],
  token_expired: ["token", "issuers"],
  token_not_yet_valid: ["token"],
  wrong_issuer: ["token", "issuers"],
  wrong_audience: ["token"],
  unknown_key: ["token"],
  bad_signature: ["token"],
  algorithm_not_allowed: ["token", "issuers"],
  wrong_token_type: ["token"],
  // A proof is made per call by the browser's key: only the token's side shows here.
  dpop_bound_token: ["gateway"],
  dpop_required: ["gateway"],
  jwks_unavailable: ["issuers", "token"],
  insufficient_scope: ["token", "gateway"],
  denied_by_policy: ["token", "gateway"],
  upstream_not_tls: ["upstreams", "gateway"],
  upstream_cert_untrusted: ["upstreams", "gateway"],
  upstream_cert_name_mismatch: ["upstreams", "gateway"],
  upstream_cert_expired: ["upstreams", "gateway"],
  upstream_cert_not_yet_valid: ["upstreams", "gateway"],
  clock_skew: ["issuers", "token"],
  cors_origin_not_allowed: ["cors"],
  cors_header_not_allowed: ["cors"],
};
