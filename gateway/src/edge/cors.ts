/**
 * CORS for gRPC-Web calls and their preflights, both through @fastify/cors
 * in the `onRequest` hook: a preflight is answered before routing and
 * before any authentication (a browser never sends credentials on a
 * preflight, so it must not need them), and a call's CORS headers are on
 * the reply before the call handler writes its response.
 */
import { cors as connectCors } from "@connectrpc/connect";
import type { FastifyCorsOptions } from "@fastify/cors";
import type { GatewayConfig } from "../config/config.ts";

/** Request headers beyond connect's gRPC-Web set: the auth flow's, trace context, request id. */
const OWN_ALLOWED_HEADERS = ["authorization", "dpop", "traceparent", "tracestate", "x-request-id"];

/** Response headers beyond connect's: the gateway's reason, auth challenges, request id. */
const OWN_EXPOSED_HEADERS = ["grpc-edge-reason", "www-authenticate", "dpop-nonce", "x-request-id"];

const lowerUnique = (names: readonly string[]): string[] => [
  ...new Set(names.map((n) => n.toLowerCase())),
];

/** Request headers gRPC-Web clients and the auth flow send. */
export const GRPC_WEB_ALLOWED_HEADERS: readonly string[] = lowerUnique([
  ...connectCors.allowedHeaders,
  ...OWN_ALLOWED_HEADERS,
]);

/** Response headers the browser's gRPC-Web client must be able to read. */
export const GRPC_WEB_EXPOSED_HEADERS: readonly string[] = lowerUnique([
  ...connectCors.exposedHeaders,
  ...OWN_EXPOSED_HEADERS,
]);

/** Request headers a call may send: the gRPC-Web set plus `cors.allowedHeaders`. */
export function allowedRequestHeaders(config: GatewayConfig["cors"]): string[] {
  return lowerUnique([...GRPC_WEB_ALLOWED_HEADERS, ...config.allowedHeaders]);
}

/** @fastify/cors options: the gRPC-Web header sets plus the configured extras. */
export function corsOptions(config: GatewayConfig["cors"]): FastifyCorsOptions {
  const origins = new Set(config.allowedOrigins);
  return {
    // Exact origins only; a disallowed origin gets no CORS grant (only `vary: Origin`).
    origin: origins.has("*")
      ? "*"
      : (origin, cb) => cb(null, origin !== undefined && origins.has(origin)),
    credentials: config.allowCredentials,
    maxAge: config.maxAgeSeconds,
    methods: ["POST", "OPTIONS"],
    allowedHeaders: allowedRequestHeaders(config),
    exposedHeaders: lowerUnique([...GRPC_WEB_EXPOSED_HEADERS, ...config.exposedHeaders]),
    strictPreflight: true,
    hook: "onRequest",
  };
}
