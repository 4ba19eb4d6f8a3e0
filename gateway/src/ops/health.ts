/**
 * /healthz (the process is alive) and /readyz (every upstream answers
 * grpc.health.v1.Health/Check with SERVING over mTLS). Readiness results are
 * cached for a moment so that load-balancer probes do not load upstreams.
 */

import type { ClientHttp2Stream } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@grpc-edge/proto/grpc/health/v1/health";
import type { FastifyInstance } from "fastify";
import type { GatewayError } from "../errors.ts";
import { errorFromRstCode, errorFromUpstreamFailure } from "../upstream/node-error.ts";
import type { UpstreamPool } from "../upstream/pool.ts";

export interface UpstreamReadiness {
  readonly upstream: string;
  readonly ready: boolean;
  readonly reason?: string;
}

const CHECK_REQUEST = (() => {
  const message = toBinary(
    HealthCheckRequestSchema,
    create(HealthCheckRequestSchema, { service: "" }),
  );
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
})();

/** What one Health/Check call through the pool came back with. */
export type HealthProbe =
  | { readonly kind: "serving" }
  | { readonly kind: "not-serving"; readonly status: string }
  /** Check answered with an error status, e.g. 12 when the upstream has no health service. */
  | { readonly kind: "status"; readonly grpcStatus: string; readonly message: string }
  /** The connection or the stream failed (TLS, refused, reset), as the relay would report it. */
  | { readonly kind: "failed"; readonly error: GatewayError }
  | { readonly kind: "no-answer" };

/** One Health/Check call through the pool; never throws. */
export async function checkUpstream(
  pool: UpstreamPool,
  timeoutMs: number,
): Promise<UpstreamReadiness> {
  const upstream = pool.name;
  const probe = await probeHealth(pool, timeoutMs);
  switch (probe.kind) {
    case "serving":
      return { upstream, ready: true };
    case "failed":
      return { upstream, ready: false, reason: probe.error.grpcMessage };
    case "no-answer":
      return { upstream, ready: false, reason: "no answer in time" };
    case "status":
      return {
        upstream,
        ready: false,
        reason: `Health/Check failed: grpc-status ${probe.grpcStatus} ${probe.message}`.trim(),
      };
    case "not-serving":
      return { upstream, ready: false, reason: `status ${probe.status}` };
  }
}

/** Calls grpc.health.v1.Health/Check (all services) through the pool; never throws. */
export async function probeHealth(pool: UpstreamPool, timeoutMs: number): Promise<HealthProbe> {
  const upstream = pool.name;
  let stream: ClientHttp2Stream;
  try {
    // A promise while the pool verifies a quiet session (at most its PING timeout).
    stream = await pool.request({
      ":method": "POST",
      ":scheme": "https",
      ":authority": pool.authority,
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": `${timeoutMs}m`,
    });
  } catch (err) {
    return { kind: "failed", error: errorFromUpstreamFailure(err, upstream) };
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = "";
    const timer = setTimeout(() => stream.close(), timeoutMs);
    const done = (result: HealthProbe) => {
      clearTimeout(timer);
      resolve(result);
    };
    stream.on("response", (headers) => {
      if (headers["grpc-status"] !== undefined) {
        status = String(headers["grpc-status"]);
        message = String(headers["grpc-message"] ?? "");
      }
    });
    stream.on("trailers", (trailers) => {
      status = String(trailers["grpc-status"]);
      message = String(trailers["grpc-message"] ?? "");
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    let failure: unknown;
    stream.on("error", (err) => {
      failure = err;
    });
    stream.on("close", () => {
      if (failure !== undefined) {
        return done({ kind: "failed", error: errorFromUpstreamFailure(failure, upstream) });
      }
      if (status === undefined) {
        return done(
          stream.rstCode
            ? { kind: "failed", error: errorFromRstCode(stream.rstCode, upstream) }
            : { kind: "no-answer" },
        );
      }
      if (status !== "0") return done({ kind: "status", grpcStatus: status, message });
      const body = Buffer.concat(chunks);
      const reply = fromBinary(HealthCheckResponseSchema, body.subarray(5));
      done(
        reply.status === HealthCheckResponse_ServingStatus.SERVING
          ? { kind: "serving" }
          : { kind: "not-serving", status: HealthCheckResponse_ServingStatus[reply.status] },
      );
    });
    stream.end(CHECK_REQUEST);
  });
}

/** Registers GET /healthz and GET /readyz. */
export function registerHealthRoutes(
  app: FastifyInstance,
  pools: readonly UpstreamPool[],
  isDraining: () => boolean,
): void {
  const cacheMs = 1000;
  let cached: { at: number; result: Promise<UpstreamReadiness[]> } | undefined;
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    if (isDraining()) return reply.code(503).send({ ready: false, reason: "shutting down" });
    if (cached === undefined || Date.now() - cached.at > cacheMs) {
      cached = { at: Date.now(), result: Promise.all(pools.map((p) => checkUpstream(p, 2000))) };
    }
    const upstreams = await cached.result;
    const ready = upstreams.every((u) => u.ready);
    return reply.code(ready ? 200 : 503).send({ ready, upstreams });
  });
}
