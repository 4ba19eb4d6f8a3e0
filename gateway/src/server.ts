/**
 * The gateway, composed as DESIGN.md draws one call: CORS → protocol →
 * route → authenticate/authorize → header rewrite → relay. Each step is its
 * own module; this file only wires them and owns the set of calls in flight.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Registry } from "prom-client";
import { createAdminEndpoints } from "./admin.ts";
import { type CallAuthorizer, createCallAuthorizer } from "./authentication.ts";
import { recordCall } from "./call-record.ts";
import type { GatewayConfig } from "./config.ts";
import { registerCors } from "./cors.ts";
import { GatewayError, toGatewayError } from "./errors.ts";
import { parseGrpcTimeout } from "./grpc-timeout.ts";
import { buildUpstreamHeaders } from "./header-rewrite.ts";
import { loggerOptions, quietRequestLogs } from "./logging.ts";
import { createMetrics } from "./metrics.ts";
import { acceptsTextOnly, parseWebContentType } from "./protocol.ts";
import { type RelayHandle, type RelayOutcome, relay } from "./relay.ts";
import { createRouter, parseMethodPath } from "./routing.ts";
import { readListenerTls } from "./tls-material.ts";
import { type CallSpan, createCallTracer } from "./tracing.ts";
import { createUpstreamPools, type UpstreamPools } from "./upstream-pools.ts";
import { WebResponse } from "./web-response.ts";

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
  const listenerTls =
    config.listen.tls === undefined
      ? undefined
      : readListenerTls(config.listen.tls.certFile, config.listen.tls.keyFile);
  const fastifyOptions: Record<string, unknown> = {
    ...(options.logger === undefined
      ? { logger: loggerOptions(config.log.level) }
      : { loggerInstance: options.logger }),
    ...(listenerTls === undefined
      ? {}
      : { http2: true, https: { allowHTTP1: true, cert: listenerTls.cert, key: listenerTls.key } }),
    logController: quietRequestLogs(), // one access line per call, written by the gateway
    genReqId: (req: { headers: IncomingHttpHeaders }) =>
      validRequestId(req.headers["x-request-id"]) ?? randomUUID(),
    bodyLimit: config.limits.maxMessageBytes,
  };
  // One instance type for both listeners: handlers only touch request.raw/reply.raw.
  const app = Fastify(fastifyOptions) as unknown as FastifyInstance;
  const log = app.log;
  const pools: UpstreamPools = createUpstreamPools(config, app, log);
  const router = createRouter(
    pools.list.map((pool, i) => ({ services: config.upstreams[i]?.services ?? [], target: pool })),
  );
  const metrics = createMetrics(pools.list);
  const tracer = createCallTracer(config.tracing.openTelemetry);
  const authorizer: CallAuthorizer = await createCallAuthorizer(config, log, metrics.jwksFetched);
  const inFlight = new Set<RelayHandle>();
  let draining = false;

  await registerCors(app, config.cors);
  const admin = createAdminEndpoints(config, app, {
    registry: metrics.registry,
    pools: pools.list,
    isDraining: () => draining,
    log,
  });
  // The body is relayed as a stream by the call handler, never parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_req, _payload, done) => done(null));
  app.post("/*", (request, reply) => {
    void handleCall(request, reply);
  });

  async function handleCall(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const started = performance.now();
    const req = request.raw;
    const baseHeaders = {
      ...reply.getHeaders(),
      "x-request-id": request.id,
    } as OutgoingHttpHeaders;
    const protocol = parseWebContentType(req.headers["content-type"]);
    if (protocol === undefined) {
      rejectMediaType(reply, baseHeaders, req.headers["content-type"]);
      return;
    }
    const response = new WebResponse(reply.raw, {
      contentType:
        protocol.text || !acceptsTextOnly(req.headers.accept)
          ? protocol.responseContentType
          : "application/grpc-web-text+proto",
      text: protocol.text || acceptsTextOnly(req.headers.accept),
      baseHeaders,
    });
    let route = { service: "unknown", method: "unknown" };
    let path = req.url ?? "";
    let upstream: string | undefined;
    let relayed = false;
    let span: CallSpan | undefined;
    const finishCall = (outcome: RelayOutcome) => {
      const grpcStatus = outcome.clientCancelled ? 1 : (response.grpcStatus ?? 2);
      span?.end(grpcStatus, outcome.error?.reason);
      recordCall(request.log, metrics, {
        path,
        ...route,
        upstream,
        grpcStatus,
        reason: outcome.error?.reason,
        cause: outcome.error?.cause,
        clientCancelled: outcome.clientCancelled,
        relayed,
        durationMs: performance.now() - started,
        bytesIn: outcome.bytesIn,
        bytesOut: response.bytesOut,
      });
    };
    try {
      if (draining) throw new GatewayError("shutting_down", "the gateway is shutting down");
      const method = parseMethodPath(req.url ?? "");
      path = method.path;
      const pool = router.route(method.service);
      upstream = pool.name;
      authorizer.checkMethodExists(method);
      // Labels only for routable methods: clients cannot mint new series.
      route = metrics.labels(method.service, method.method);
      span = tracer.start(req.headers, method, pool.name);
      const timeout = parseGrpcTimeout(headerValue(req.headers, "grpc-timeout"));
      const identity = await authorizer.check(method, req.headers);
      const headers = buildUpstreamHeaders(req.headers, {
        path: method.path,
        authority: pool.authority,
        contentType: protocol.upstreamContentType,
        timeoutMs:
          timeout === undefined ? undefined : Math.min(timeout, config.limits.maxTimeoutMs),
        identity: { ...identity, "x-request-id": request.id },
        remoteAddress: request.ip === "" ? undefined : request.ip,
        forwardedProto: listenerTls === undefined ? "http" : "https",
      });
      span?.inject(headers);
      relayed = true;
      metrics.callStarted(route.service, route.method);
      const handle = relay({
        req,
        response,
        pool,
        headers,
        textRequest: protocol.text,
        maxMessageBytes: config.limits.maxMessageBytes,
        timeoutMs:
          timeout === undefined ? undefined : Math.min(timeout, config.limits.maxTimeoutMs),
        onFinish: (outcome) => {
          inFlight.delete(handle);
          finishCall(outcome);
        },
      });
      inFlight.add(handle);
    } catch (err) {
      const error = toGatewayError(err);
      response.fail(error);
      finishCall({ bytesIn: 0, error, clientCancelled: false });
    }
  }

  return {
    app,
    log,
    async listen() {
      await app.listen({ host: config.listen.host, port: config.listen.port });
      const address = app.server.address();
      const port =
        typeof address === "object" && address !== null ? address.port : config.listen.port;
      const scheme = listenerTls === undefined ? "http" : "https";
      const host = config.listen.host.includes(":")
        ? `[${config.listen.host}]`
        : config.listen.host;
      if (listenerTls !== undefined && config.listen.tls !== undefined)
        pools.watchListener(config.listen.tls);
      const adminUrl = await admin.listen();
      return { host: config.listen.host, port, url: `${scheme}://${host}:${port}`, adminUrl };
    },
    async close() {
      draining = true;
      const closed = Promise.all([app.close(), admin.close()]);
      const deadline = Date.now() + config.limits.drainTimeoutMs;
      while (inFlight.size > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 25));
      for (const handle of [...inFlight]) {
        handle.abort(
          new GatewayError("shutting_down", "the gateway shut down before the call finished"),
        );
      }
      pools.close();
      authorizer.close();
      await closed;
    },
    activeCalls: () => inFlight.size,
    metrics: metrics.registry,
  };
}

/** 415 for a body that is not gRPC-Web; CORS headers still go out (checklist item 1). */
function rejectMediaType(
  reply: FastifyReply,
  baseHeaders: Record<string, unknown>,
  contentType: string | undefined,
): void {
  const err = new GatewayError(
    "unsupported_media_type",
    `content-type ${JSON.stringify(contentType ?? null)} is not gRPC-Web`,
  );
  reply.raw.writeHead(415, {
    ...(baseHeaders as Record<string, string>),
    "content-type": "text/plain; charset=utf-8",
    "grpc-status": String(err.code),
    "grpc-message": err.grpcMessage,
    "grpc-edge-reason": err.reason,
  });
  reply.raw.end(`${err.grpcMessage}\n`);
  reply.log.info({ reason: err.reason, httpStatus: 415 }, "call rejected");
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A client-sent x-request-id is kept when it is short and printable. */
function validRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && /^[\w.:-]{1,128}$/.test(value) ? value : undefined;
}
