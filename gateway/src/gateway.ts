/**
 * The gateway as the CLI runs it: a Fastify instance with the gRPC-Web
 * plugin (edge/plugin.ts) and the operator endpoints (ops/admin.ts), on the
 * listener the config describes.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "./config/config.ts";
import { listenerOptions, watchListenerCertificate } from "./edge/listener.ts";
import { grpcWebGateway } from "./edge/plugin.ts";
import { requestIdOf } from "./edge/request-id.ts";
import { createAdminEndpoints } from "./ops/admin.ts";
import { holdBufferReclaim } from "./ops/buffer-reclaim.ts";
import { allocatorTrimUnavailable, holdIdleMemoryRelease } from "./ops/idle-memory.ts";
import { loggerOptions, quietRequestLogs } from "./ops/logging.ts";
import type { FileWatcher } from "./upstream/file-watch.ts";

export interface Gateway {
  readonly app: FastifyInstance;
  readonly log: FastifyBaseLogger;
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number; url: string; adminUrl: string | undefined }>;
  /** Stops accepting, drains in-flight calls up to drainTimeoutMs, then cancels them (14). */
  close(): Promise<void>;
  /** Prometheus registry (GET /metrics renders it). */
  readonly metrics: Registry;
  /** Calls in flight now. */
  activeCalls(): number;
}

export interface GatewayOptions {
  /** Overrides the logger (tests pass their own pino instance or `false`). */
  readonly logger?: FastifyBaseLogger;
}

export async function createGateway(
  config: GatewayConfig,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const fastifyOptions: Record<string, unknown> = {
    ...(options.logger === undefined
      ? { logger: loggerOptions(config.log.level) }
      : { loggerInstance: options.logger }),
    ...listenerOptions(config.listen.tls),
    logController: quietRequestLogs(), // one access line per call, written by the gateway
    genReqId: requestIdOf,
    // During the drain a call on a kept-alive connection gets 14 shutting_down, not a JSON 503.
    return503OnClosing: false,
  };
  // One instance type for both listeners: the gateway touches only request.raw and reply.raw.
  const app = Fastify(fastifyOptions) as unknown as FastifyInstance;
  await app.register(grpcWebGateway, config);
  const gateway = app.grpcWebGateway;
  const log = app.log;
  const admin = createAdminEndpoints(config, app, {
    registry: gateway.metrics,
    pools: gateway.upstreams,
    isDraining: gateway.draining,
    log,
  });

  let certificateWatch: FileWatcher | undefined;
  let releaseReclaim: (() => void) | undefined;
  let releaseIdleMemory: (() => void) | undefined;
  return {
    app,
    log,
    async listen() {
      await app.listen({ host: config.listen.host, port: config.listen.port });
      const address = app.server.address();
      const port =
        typeof address === "object" && address !== null ? address.port : config.listen.port;
      const scheme = config.listen.tls === undefined ? "http" : "https";
      const host = config.listen.host.includes(":")
        ? `[${config.listen.host}]`
        : config.listen.host;
      if (config.listen.tls !== undefined)
        certificateWatch ??= watchListenerCertificate(
          app,
          config.listen.tls,
          config.reload.intervalMs,
          log,
        );
      const adminUrl = await admin.listen();
      if (config.memory.releaseWhenIdle && releaseIdleMemory === undefined) {
        releaseIdleMemory = holdIdleMemoryRelease();
        void allocatorTrimUnavailable().then((why) => {
          if (why !== undefined)
            log.info(
              { why },
              "memory.releaseWhenIdle: V8's memory is given back when idle, the C allocator's is not",
            );
        });
      }
      if (config.memory.reclaimAfterBytes > 0 && releaseReclaim === undefined)
        releaseReclaim = holdBufferReclaim(config.memory.reclaimAfterBytes);
      return { host: config.listen.host, port, url: `${scheme}://${host}:${port}`, adminUrl };
    },
    async close() {
      releaseReclaim?.();
      releaseReclaim = undefined;
      releaseIdleMemory?.();
      releaseIdleMemory = undefined;
      certificateWatch?.close();
      await Promise.all([app.close(), admin.close()]);
    },
    activeCalls: () => gateway.activeCalls(),
    metrics: gateway.metrics,
  };
}
