/**
 * The one place where HTTP/2 and TLS failures on the upstream side become
 * gRPC statuses (DESIGN.md checklist item 14).
 */
import { constants } from "node:http2";
import { GatewayError } from "../errors.ts";
import { Code } from "../grpc-web/grpc-status.ts";

const TLS_CODES = new Set([
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_HANDSHAKE_TIMEOUT",
]);

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
  const code = errorCode(err);
  const cause = errorCode((err as { cause?: unknown } | undefined)?.cause);
  for (const c of [code, cause]) {
    if (c === undefined) continue;
    if (TLS_CODES.has(c) || c.startsWith("ERR_SSL_")) {
      return new GatewayError("upstream_tls", `TLS with ${upstream} failed (${c})`, { cause: err });
    }
    if (UNAVAILABLE_CODES.has(c)) {
      return new GatewayError("upstream_unavailable", `${upstream} is unavailable (${c})`, {
        cause: err,
      });
    }
  }
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
