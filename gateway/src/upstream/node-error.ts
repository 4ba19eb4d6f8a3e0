/**
 * The one place where HTTP/2 and TLS failures on the upstream side become
 * gRPC statuses (DESIGN.md checklist item 14).
 */
import { constants } from "node:http2";
import { GatewayError, type Reason } from "../errors.ts";
import { Code } from "../grpc-web/grpc-status.ts";
import { CLOSED_AFTER_HANDSHAKE } from "./tls-rejection.ts";

/** Server-certificate checks that failed (OpenSSL's X509_V_ERR names, as Node reports them). */
const CERTIFICATE_REASONS: Readonly<Record<string, Reason>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "upstream_cert_untrusted",
  UNABLE_TO_GET_ISSUER_CERT: "upstream_cert_untrusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "upstream_cert_untrusted",
  SELF_SIGNED_CERT_IN_CHAIN: "upstream_cert_untrusted",
  DEPTH_ZERO_SELF_SIGNED_CERT: "upstream_cert_untrusted",
  CERT_UNTRUSTED: "upstream_cert_untrusted",
  CERT_SIGNATURE_FAILURE: "upstream_cert_untrusted",
  ERR_TLS_CERT_ALTNAME_INVALID: "upstream_cert_name_mismatch",
  CERT_HAS_EXPIRED: "upstream_cert_expired",
  CERT_NOT_YET_VALID: "upstream_cert_not_yet_valid",
};

/** OpenSSL's answer when the peer's first bytes are not a TLS record: it speaks plaintext. */
const NOT_TLS_CODES = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);

/**
 * A TLS alert from the peer, e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED
 * (OpenSSL 3 names the SSLv3-era alerts ERR_SSL_SSL/TLS_ALERT_…).
 */
const ALERT_CODE = /^ERR_SSL_(?:SSLV3|SSL\/TLS|TLSV1|TLSV13)_ALERT_([A-Z_]+)$/;

/** What an alert from an upstream means for the gateway (RFC 8446 §6.2 names). */
const ALERT_MEANINGS: Readonly<Record<string, string>> = {
  "certificate required":
    "it requires a client certificate and got none it accepts (a key type or signature algorithm it does not take ends here too)",
  "unknown CA": "it does not trust the CA that issued the gateway's client certificate",
  "certificate expired": "the gateway's client certificate has expired by the upstream's clock",
  "bad certificate": "it rejected the gateway's client certificate",
  "certificate unknown": "it rejected the gateway's client certificate",
  "certificate revoked": "the gateway's client certificate is revoked",
  "unsupported certificate":
    "the gateway's certificate is not a client certificate (extended key usage clientAuth)",
  "no application protocol": "it does not offer HTTP/2 (ALPN h2)",
  "protocol version": "no TLS version in common (the gateway offers TLS 1.2 and 1.3)",
  "handshake failure": "no cipher, group or signature algorithm in common",
};

/** "unknown CA" from ERR_SSL_TLSV1_ALERT_UNKNOWN_CA. */
export function alertName(code: string): string | undefined {
  const match = ALERT_CODE.exec(code);
  if (match === null) return undefined;
  return (match[1] as string)
    .toLowerCase()
    .replaceAll("_", " ")
    .replace(/\bca\b/, "CA");
}

/** The TLS failure behind a platform error code, or undefined if it is none. */
function tlsFailure(code: string, err: unknown, upstream: string): GatewayError | undefined {
  const certificateReason = CERTIFICATE_REASONS[code];
  if (certificateReason !== undefined) {
    // Node's name-check error says which names the certificate has.
    const names = (err as { reason?: unknown }).reason;
    const detail =
      typeof names === "string" && code === "ERR_TLS_CERT_ALTNAME_INVALID" ? names : code;
    return new GatewayError(certificateReason, `${upstream}'s certificate: ${detail}`, {
      cause: err,
    });
  }
  if (NOT_TLS_CODES.has(code)) {
    return new GatewayError(
      "upstream_not_tls",
      `${upstream} did not answer with TLS (${code}): it speaks plaintext`,
      { cause: err },
    );
  }
  const alert = alertName(code);
  if (alert !== undefined) {
    const meaning = ALERT_MEANINGS[alert];
    return new GatewayError(
      "upstream_tls",
      `${upstream} refused the TLS handshake with the alert "${alert}"${meaning === undefined ? "" : `: ${meaning}`}`,
      { cause: err },
    );
  }
  if (code === CLOSED_AFTER_HANDSHAKE) {
    return new GatewayError(
      "upstream_tls",
      `${upstream} closed the connection right after the TLS handshake, before HTTP/2 began: it did not accept the gateway's client certificate (untrusted or expired; servers on Node close without an alert)`,
      { cause: err },
    );
  }
  if (code === "INVALID_PURPOSE") {
    return new GatewayError(
      "upstream_tls",
      `${upstream}'s certificate is not a server certificate (extended key usage serverAuth)`,
      { cause: err },
    );
  }
  if (code.startsWith("ERR_SSL_") || code === "ERR_TLS_HANDSHAKE_TIMEOUT") {
    return new GatewayError("upstream_tls", `TLS with ${upstream} failed (${code})`, {
      cause: err,
    });
  }
  return undefined;
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_ERROR",
]);

/** Maps an RST_STREAM code from the upstream (gRPC over HTTP/2, "Errors"). */
export function errorFromRstCode(rstCode: number, upstream: string): GatewayError {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return new GatewayError("upstream_unavailable", `${upstream} refused the stream`);
    case constants.NGHTTP2_CANCEL:
      return new GatewayError("upstream_cancelled", `${upstream} cancelled the stream`);
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return new GatewayError(
        "upstream_reset",
        `${upstream} reset the stream (ENHANCE_YOUR_CALM)`,
        {
          code: Code.RESOURCE_EXHAUSTED,
        },
      );
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return new GatewayError(
        "upstream_reset",
        `${upstream} reset the stream (INADEQUATE_SECURITY)`,
        {
          code: Code.PERMISSION_DENIED,
        },
      );
    default:
      return new GatewayError(
        "upstream_reset",
        `${upstream} reset the stream (HTTP/2 error ${rstCode})`,
      );
  }
}

/** Maps a stream or session error (connect refused, TLS, GOAWAY, reset). */
export function errorFromUpstreamFailure(err: unknown, upstream: string): GatewayError {
  if (err instanceof GatewayError) return err;
  // Node wraps a session's failure as each stream's cause (ERR_HTTP2_STREAM_CANCEL).
  for (const failure of [err, (err as { cause?: unknown } | undefined)?.cause]) {
    const c = errorCode(failure);
    if (c === undefined) continue;
    const tls = tlsFailure(c, failure, upstream);
    if (tls !== undefined) return tls;
    if (UNAVAILABLE_CODES.has(c)) {
      return new GatewayError("upstream_unavailable", `${upstream} is unavailable (${c})`, {
        cause: err,
      });
    }
  }
  const code = errorCode(err);
  if (code === "ERR_HTTP2_STREAM_ERROR") {
    const match = /NGHTTP2_([A-Z_]+)/.exec(String((err as Error).message));
    const rst =
      match === null
        ? undefined
        : (constants as unknown as Record<string, number>)[`NGHTTP2_${match[1]}`];
    if (rst !== undefined) return errorFromRstCode(rst, upstream);
  }
  return new GatewayError(
    "upstream_unavailable",
    `${upstream} failed (${code ?? "unknown error"})`,
    { cause: err },
  );
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
