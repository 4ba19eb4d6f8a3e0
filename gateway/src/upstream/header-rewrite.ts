/**
 * Header rewrite between the browser and the upstream (DESIGN.md pipeline
 * step 6, checklist item 2): hop-by-hop, browser-only and spoofable identity
 * headers are dropped; gRPC transport headers are set by the gateway.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { formatGrpcTimeout } from "../grpc-web/grpc-timeout.ts";

/** Request headers that never reach the upstream as they came. */
const DROP_REQUEST = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "te",
  "host",
  "content-length",
  "content-type",
  "authorization",
  "cookie",
  "origin",
  "referer",
  "accept",
  "accept-encoding",
  "accept-language",
  "cache-control",
  "pragma",
  "priority",
  "dnt",
  "x-grpc-web",
  "x-user-agent",
  "grpc-timeout",
  "grpc-accept-encoding",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
]);

/** Prefixes dropped too: pseudo headers, fetch metadata, client hints, identity. */
function droppedByPrefix(name: string): boolean {
  return (
    name.charCodeAt(0) === 0x3a /* ":" */ ||
    name.startsWith("sec-") ||
    name.startsWith("x-auth-") ||
    name.startsWith("access-control-request-")
  );
}

export interface UpstreamRequestOptions {
  readonly path: string;
  readonly authority: string;
  readonly contentType: string;
  /** Capped deadline in ms, when the client sent grpc-timeout. */
  readonly timeoutMs: number | undefined;
  /** Verified identity (x-auth-*) and, when configured, authorization. */
  readonly identity: Readonly<Record<string, string>> | undefined;
  /** The call's request id, sent as x-request-id. */
  readonly requestId?: string;
  /** The browser's address, sent as x-forwarded-for. */
  readonly remoteAddress: string | undefined;
  /** Scheme the browser used, sent as x-forwarded-proto. */
  readonly forwardedProto: "http" | "https";
}

/** Builds the HTTP/2 request headers for the upstream call. */
export function buildUpstreamHeaders(
  incoming: IncomingHttpHeaders,
  options: UpstreamRequestOptions,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ":method": "POST",
    ":scheme": "https",
    ":authority": options.authority,
    ":path": options.path,
    "content-type": options.contentType,
    te: "trailers",
    // Browsers cannot decompress gRPC messages (checklist item 11).
    "grpc-accept-encoding": "identity",
  };
  const hopByHop = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (DROP_REQUEST.has(name) || droppedByPrefix(name) || hopByHop?.has(name) === true) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  if (options.timeoutMs !== undefined) out["grpc-timeout"] = formatGrpcTimeout(options.timeoutMs);
  if (options.remoteAddress !== undefined) out["x-forwarded-for"] = options.remoteAddress;
  out["x-forwarded-proto"] = options.forwardedProto;
  if (options.identity !== undefined) Object.assign(out, options.identity);
  if (options.requestId !== undefined) out["x-request-id"] = options.requestId;
  return out;
}

/** Names listed in a Connection header are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionTokens(connection: string | undefined): Set<string> | undefined {
  if (
    connection === undefined ||
    connection === "" ||
    connection === "keep-alive" ||
    connection === "close"
  ) {
    return undefined;
  }
  return new Set(connection.split(",").map((t) => t.trim().toLowerCase()));
}

/** Response headers from the upstream that the browser must not get as they are. */
const DROP_RESPONSE = new Set([
  "content-type",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "date",
]);

/** Upstream response metadata for the browser's response headers. */
export function filterResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a || DROP_RESPONSE.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
