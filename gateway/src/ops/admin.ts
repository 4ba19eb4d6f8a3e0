/**
 * Operator endpoints: /metrics (Prometheus text format), /healthz, /readyz.
 * They live on the main listener, or on their own listener when `admin.port`
 * is set (so the edge does not expose them). With `workers` > 1 every worker
 * answers /metrics with the sum over the cluster.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "../config/config.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import { clusterMetricsSource, isClusterWorker } from "./cluster.ts";
import { registerHealthRoutes } from "./health.ts";
import { quietRequestLogs } from "./logging.ts";

export interface AdminEndpoints {
  listen(): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface AdminDeps {
  readonly registry: Registry;
  readonly pools: readonly UpstreamPool[];
  readonly isDraining: () => boolean;
  readonly log: FastifyBaseLogger;
}

export function createAdminEndpoints(
  config: GatewayConfig,
  main: FastifyInstance,
  deps: AdminDeps,
): AdminEndpoints {
  const metricsText = isClusterWorker()
    ? clusterMetricsSource(deps.registry)
    : () => deps.registry.metrics();
  const register = (app: FastifyInstance) => {
    registerHealthRoutes(app, deps.pools, deps.isDraining);
    app.get("/metrics", async (_request, reply) => {
      reply.header("content-type", deps.registry.contentType);
      return metricsText();
    });
  };
  if (config.admin === undefined) {
    register(main);
    return { listen: async () => undefined, close: async () => {} };
  }
  const { host, port } = config.admin;
  const admin = Fastify({
    loggerInstance: deps.log.child({ listener: "admin" }),
    logController: quietRequestLogs(),
  });
  register(admin as unknown as FastifyInstance);
  return {
    listen: () => admin.listen({ host, port }),
    close: () => admin.close(),
  };
}
