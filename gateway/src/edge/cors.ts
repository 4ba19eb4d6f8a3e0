/**
 * CORS for gRPC-Web with @fastify/cors. The plugin answers preflight in the
 * `onRequest` hook, before routing and before any authentication: a browser
 * never sends credentials on a preflight, so it must not need them.
 */
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import type { GatewayConfig } from "../config/config.ts";

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
    exposedHeaders: exposedHeaders(config),
    strictPreflight: true,
    hook: "onRequest",
  });
}

/**
 * The CORS headers of an actual (non-preflight) call, as @fastify/cors sends
 * them, for the call handler that runs outside Fastify's hooks: an allowed
 * origin is echoed (or `*`), with credentials and exposed headers; any
 * other origin gets only `vary: Origin`. Objects are built once per origin.
 */
export function corsResponseHeaders(
  config: GatewayConfig["cors"],
): (origin: string | undefined) => Readonly<Record<string, string>> {
  const exposed = exposedHeaders(config).join(", ");
  const allowed = (origin: string): Readonly<Record<string, string>> =>
    Object.freeze({
      ...(origin === "*" ? {} : { vary: "Origin" }),
      "access-control-allow-origin": origin,
      ...(config.allowCredentials ? { "access-control-allow-credentials": "true" } : {}),
      "access-control-expose-headers": exposed,
    });
  if (config.allowedOrigins.includes("*")) {
    const any = allowed("*");
    return () => any;
  }
  const byOrigin = new Map(config.allowedOrigins.map((o) => [o, allowed(o)]));
  const refused = Object.freeze({ vary: "Origin" });
  return (origin) => (origin === undefined ? refused : (byOrigin.get(origin) ?? refused));
}

/** The gRPC-Web response headers plus the configured extras, each once. */
function exposedHeaders(config: GatewayConfig["cors"]): string[] {
  return [...new Set([...GRPC_WEB_EXPOSED_HEADERS, ...config.exposedHeaders])];
}
