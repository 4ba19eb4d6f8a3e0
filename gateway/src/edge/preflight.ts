/**
 * CORS preflights the gateway refuses, named. After a refused preflight the
 * browser never sends the call, and its gRPC-Web client sees only a network
 * error (connect-web: 2 UNKNOWN, "Failed to fetch"), so the reason goes
 * where people can look: the preflight response's `grpc-edge-reason` (the
 * browser's network panel), a log line and /metrics. The decision is
 * @fastify/cors's as corsOptions configures it, with the browser's reading
 * of the answer (Fetch standard, "CORS check" and "CORS-preflight fetch").
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatewayConfig } from "../config/config.ts";
import type { Reason } from "../errors.ts";
import type { GatewayMetrics } from "../ops/metrics.ts";
import { allowedRequestHeaders } from "./cors.ts";

export interface PreflightRefusal {
  readonly reason: Extract<Reason, "cors_origin_not_allowed" | "cors_header_not_allowed">;
  /** The requested headers that are not allowed (for cors_header_not_allowed). */
  readonly headers: readonly string[];
}

/** `access-control-request-headers` (or an allow list) as lowercase names. */
export function headerList(value: string | string[] | undefined | null): string[] {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  return text
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
}

/**
 * The requested headers an allow list does not cover. `*` covers every
 * name but `authorization`, and only for requests without credentials.
 */
export function headersNotAllowed(
  requested: readonly string[],
  allowed: readonly string[],
  credentials: boolean,
): string[] {
  const wildcard = !credentials && allowed.includes("*");
  return requested.filter(
    (name) => !allowed.includes(name) && !(wildcard && name !== "authorization"),
  );
}

/** Whether `cors.allowedOrigins` lets a page at `origin` call (exact match, or "*"). */
export function originAllowed(cors: GatewayConfig["cors"], origin: string): boolean {
  return cors.allowedOrigins.includes("*") || cors.allowedOrigins.includes(origin);
}

/** The requested headers the gateway's CORS does not allow. */
export function requestHeadersNotAllowed(
  cors: GatewayConfig["cors"],
  requested: readonly string[],
): string[] {
  return headersNotAllowed(requested, allowedRequestHeaders(cors), cors.allowCredentials);
}

/** Why the gateway's CORS policy refuses a preflight from `origin` asking for these headers. */
export function preflightRefusal(
  cors: GatewayConfig["cors"],
  origin: string,
  requestedHeaders: readonly string[],
): PreflightRefusal | undefined {
  if (!originAllowed(cors, origin)) return { reason: "cors_origin_not_allowed", headers: [] };
  const refused = requestHeadersNotAllowed(cors, requestedHeaders);
  return refused.length === 0 ? undefined : { reason: "cors_header_not_allowed", headers: refused };
}

/**
 * An onRequest hook, run before @fastify/cors answers the preflight, that
 * records a refusal: the header on the response, a log line, a metric.
 */
export function recordPreflightRefusals(cors: GatewayConfig["cors"], metrics: GatewayMetrics) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const { origin } = request.headers;
    if (
      request.method !== "OPTIONS" ||
      origin === undefined ||
      request.headers["access-control-request-method"] === undefined
    ) {
      done();
      return;
    }
    const refusal = preflightRefusal(
      cors,
      origin,
      headerList(request.headers["access-control-request-headers"]),
    );
    if (refusal !== undefined) {
      reply.header("grpc-edge-reason", refusal.reason);
      metrics.preflightRefused(refusal.reason);
      request.log.info(
        {
          reason: refusal.reason,
          origin: origin.slice(0, 200),
          path: request.url.slice(0, 200),
          headers: refusal.headers,
        },
        "preflight refused",
      );
    }
    done();
  };
}
