/**
 * The gateway as a Fastify plugin: `app.register(grpcWebGateway, config)`.
 * gRPC-Web calls are routes in Fastify's request lifecycle, so the app's
 * hooks and plugins (rate limits, security headers, load shedding) see
 * every call; the body reaches the relay as the raw stream, and the call
 * handler writes the raw response after `reply.hijack()`.
 *
 * The routes live in a scope of their own: their content-type parser, CORS
 * and error handler do not touch the app's other routes (an app that runs
 * @fastify/cors at its root keeps it, and it answers for calls too). Wrapped with
 * fastify-plugin, so the `grpcWebGateway` decoration and the close hooks
 * belong to the app it is registered in.
 */
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createAuthStep } from "../auth/auth-step.ts";
import type { GatewayConfig } from "../config/config.ts";
import { WEB_CONTENT_TYPES } from "../grpc-web/content-type.ts";
import { lazyChildLoggers } from "../ops/logging.ts";
import { createMetrics } from "../ops/metrics.ts";
import { createCallTracer } from "../ops/tracing.ts";
import { createRouter } from "../routing/router.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import { createUpstreams } from "../upstream/upstreams.ts";
import { createCallHandler } from "./call-handler.ts";
import { corsOptions } from "./cors.ts";
import { errorFromFastify } from "./fastify-error.ts";
import { recordPreflightRefusals } from "./preflight.ts";

/** What the plugin shares with the app (`app.grpcWebGateway`). */
export interface GrpcWebGatewayState {
  /** The gateway's Prometheus registry (its metrics and the process's). */
  readonly metrics: Registry;
  /** One pool per configured upstream (readiness checks use them). */
  readonly upstreams: readonly UpstreamPool[];
  /** Calls in flight now. */
  activeCalls(): number;
  /** True once the app started closing: new calls get 14 shutting_down. */
  draining(): boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    grpcWebGateway: GrpcWebGatewayState;
  }
}

async function grpcWebGatewayPlugin(app: FastifyInstance, config: GatewayConfig): Promise<void> {
  const log = app.log;
  const upstreams = createUpstreams(config, log as Logger);
  const metrics = createMetrics(upstreams.pools);
  const auth = await createAuthStep(config.auth, {
    log: log as Logger,
    onJwksFetch: metrics.jwksFetched,
  });
  const calls = createCallHandler({
    limits: config.limits,
    router: createRouter(
      upstreams.pools.map((pool, i) => ({
        services: config.upstreams[i]?.services ?? [],
        target: pool,
      })),
      config.descriptors,
    ),
    auth,
    metrics,
    tracer: await createCallTracer(config.tracing.openTelemetry),
    log,
  });
  let draining = false;
  app.decorate("grpcWebGateway", {
    metrics: metrics.registry,
    upstreams: upstreams.pools,
    activeCalls: () => calls.active(),
    draining: () => draining,
  } satisfies GrpcWebGatewayState);

  await app.register(async (scope) => {
    // The body stays a stream: the relay reads it frame by frame, with
    // backpressure, and never holds a whole message (DESIGN.md decision 3).
    scope.setChildLoggerFactory(lazyChildLoggers(scope.childLoggerFactory));
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser([...WEB_CONTENT_TYPES], (_request, body, done) => done(null, body));
    // CORS belongs to one @fastify/cors per app: when the app registered it
    // at its root, its hook already runs for these routes (and its
    // decorator would refuse a second registration).
    if (scope.hasRequestDecorator("corsPreflightEnabled")) {
      log.info(
        "the app's @fastify/cors answers CORS for gRPC-Web calls (config.cors is not used); allow GRPC_WEB_ALLOWED_HEADERS and expose GRPC_WEB_EXPOSED_HEADERS there",
      );
    } else {
      scope.addHook("onRequest", recordPreflightRefusals(config.cors, metrics));
      await scope.register(cors, corsOptions(config.cors));
    }
    scope.setErrorHandler((err, request, reply) => {
      calls.refuse(request, reply, errorFromFastify(err));
    });
    scope.post("/*", (request, reply) => {
      reply.hijack();
      calls.handle(request, reply);
    });
  });

  // Before the server stops accepting: calls in flight may finish within
  // drainTimeoutMs; a connection they leave idle is closed at once, so the
  // server's close does not wait out its keep-alive timeout.
  app.addHook("preClose", (done) => {
    draining = true;
    const server = app.server as { closeIdleConnections?: () => void };
    calls.drain(config.limits.drainTimeoutMs, () =>
      setImmediate(() => server.closeIdleConnections?.()),
    );
    done();
  });
  app.addHook("onClose", (_app, done) => {
    calls.abortAll();
    upstreams.close();
    if (config.auth !== undefined)
      log.info(auth.stats(), "token verifications and cache hits since start");
    auth.close().then(() => done(), done);
  });
}

export const grpcWebGateway = fp(grpcWebGatewayPlugin, {
  name: "@grpc-edge/gateway",
  fastify: "5.x",
});
