/**
 * Operator endpoints: /metrics (Prometheus text format), /healthz, /readyz.
 * They live on the main listener, or on their own listener when `admin.port`
 * is set (so the edge does not expose them).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "./config.ts";
import { registerHealthRoutes } from "./health.ts";
import type { UpstreamPool } from "./upstream-pool.ts";

export interface AdminEndpoints {
  listen(): Promise<string | undefined>;
  close(): Promise<void>;
}

function registerRoutes(
  app: FastifyInstance,
  registry: Registry,
  pools: readonly UpstreamPool[],
  isDraining: () => boolean,
): void {
  registerHealthRoutes(app, pools, isDraining);
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
}

export function createAdminEndpoints(
  config: GatewayConfig,
  main: FastifyInstance,
  deps: {
    registry: Registry;
    pools: readonly UpstreamPool[];
    isDraining: () => boolean;
    log: FastifyBaseLogger;
  },
): AdminEndpoints {
  if (config.admin === undefined) {
    registerRoutes(main, deps.registry, deps.pools, deps.isDraining);
    return { listen: async () => undefined, close: async () => {} };
  }
  const { host, port } = config.admin;
  const admin = Fastify({
    loggerInstance: deps.log.child({ listener: "admin" }),
    disableRequestLogging: true,
  });
  registerRoutes(admin as unknown as FastifyInstance, deps.registry, deps.pools, deps.isDraining);
  return {
    async listen() {
      return admin.listen({ host, port });
    },
    close: () => admin.close(),
  };
}
