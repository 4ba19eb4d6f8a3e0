/**
 * CORS for gRPC-Web with @fastify/cors. The plugin answers preflight in the
 * `onRequest` hook, before routing and before any authentication: a browser
 * never sends credentials on a preflight, so it must not need them.
 */
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import type { GatewayConfig } from "./config.ts";

/** Request headers gRPC-Web clients and the auth flow send. */
export const GRPC_WEB_ALLOWED_HEADERS = [
  "content-type",
  "authorization",
  "dpop",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
  "connect-protocol-version",
  "connect-timeout-ms",
  "traceparent",
  "tracestate",
  "x-request-id",
] as const;

/** Response headers the browser's gRPC-Web client must be able to read. */
export const GRPC_WEB_EXPOSED_HEADERS = [
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "grpc-edge-reason",
  "www-authenticate",
  "dpop-nonce",
  "x-request-id",
] as const;

/** Registers @fastify/cors with the gRPC-Web header sets plus configured extras. */
export async function registerCors(
  app: FastifyInstance,
  config: GatewayConfig["cors"],
): Promise<void> {
  const origins = new Set(config.allowedOrigins);
  const any = origins.has("*");
  await app.register(cors, {
    // Exact origins only; a disallowed origin gets no CORS headers at all.
    origin: any ? "*" : (origin, cb) => cb(null, origin !== undefined && origins.has(origin)),
    credentials: config.allowCredentials,
    maxAge: config.maxAgeSeconds,
    methods: ["POST", "OPTIONS"],
    allowedHeaders: [...new Set([...GRPC_WEB_ALLOWED_HEADERS, ...config.allowedHeaders])],
    exposedHeaders: [...new Set([...GRPC_WEB_EXPOSED_HEADERS, ...config.exposedHeaders])],
    strictPreflight: true,
    hook: "onRequest",
  });
}
