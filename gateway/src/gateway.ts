/**
 * The gateway, composed as DESIGN.md draws one call: CORS → protocol →
 * route → authenticate/authorize → header rewrite → relay. Each step is its
 * own module; this file only wires them and owns the set of calls in flight.
 */
import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest } from "node:http2";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type CallAuthorizer, createCallAuthorizer } from "./auth/authentication.ts";
import type { Metadata } from "./auth/index.ts";
import type { GatewayConfig } from "./config/config.ts";
import { corsResponseHeaders, registerCors } from "./edge/cors.ts";
import { type RawResponse, WebResponse } from "./edge/web-response.ts";
import { GatewayError, toGatewayError } from "./errors.ts";
import { acceptsTextOnly, parseWebContentType } from "./grpc-web/content-type.ts";
import { parseGrpcTimeout } from "./grpc-web/grpc-timeout.ts";
import { createAdminEndpoints } from "./ops/admin.ts";
import { holdBufferReclaim } from "./ops/buffer-reclaim.ts";
import { recordCall } from "./ops/call-record.ts";
import { loggerOptions, quietRequestLogs } from "./ops/logging.ts";
import { createMetrics } from "./ops/metrics.ts";
import { type CallSpan, createCallTracer } from "./ops/tracing.ts";
import { createRouter, parseMethodPath } from "./routing/router.ts";
import { buildUpstreamHeaders } from "./upstream/header-rewrite.ts";
import { type RelayHandle, type RelayOutcome, relay } from "./upstream/relay.ts";
import { readListenerTls } from "./upstream/tls-material.ts";
import { createUpstreamPools, type UpstreamPools } from "./upstream/upstreams.ts";

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
    ...(listenerTls === undefined ? {} : { http2: true }),
    // gRPC-Web calls (every POST) go straight to the call handler; Fastify
    // routes the rest (preflight, health, metrics). Measured: Fastify's
    // per-request work (request/reply objects, hooks, child logger) was a
    // fifth of the gateway's CPU per unary call (bench/RESULTS.md).
    serverFactory: (fastifyHandler: RequestListener) =>
      createListener(listenerTls, (req, res) => {
        if (req.method === "POST") handleCall(req, res);
        else fastifyHandler(req as IncomingMessage, res as ServerResponse);
      }),
    logController: quietRequestLogs(), // one access line per call, written by the gateway
    genReqId: (req: { headers: IncomingHttpHeaders }) => requestIdOf(req.headers),
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
  const corsHeaders = corsResponseHeaders(config.cors);
  const forwardedProto = listenerTls === undefined ? "http" : "https";
  const infoEnabled = () => (log as unknown as Logger).isLevelEnabled("info");

  function handleCall(req: RawRequest, res: RawResponse): void {
    const started = performance.now();
    const headers = req.headers;
    const requestId = requestIdOf(headers);
    const baseHeaders: OutgoingHttpHeaders = {
      ...corsHeaders(headerValue(headers, "origin")),
      "x-request-id": requestId,
    };
    const protocol = parseWebContentType(headers["content-type"]);
    if (protocol === undefined) {
      rejectMediaType(res, baseHeaders, headers["content-type"], log, {
        reqId: requestId,
        path: req.url,
      });
      req.resume();
      return;
    }
    const textOnly = acceptsTextOnly(headers.accept);
    const response = new WebResponse(res, {
      contentType:
        protocol.text || !textOnly
          ? protocol.responseContentType
          : "application/grpc-web-text+proto",
      text: protocol.text || textOnly,
      baseHeaders,
    });
    const call: CallState = {
      route: UNKNOWN_ROUTE,
      path: req.url ?? "",
      upstream: undefined,
      relayed: false,
      span: undefined,
    };
    const finishCall = (outcome: RelayOutcome) => {
      const grpcStatus = outcome.clientCancelled ? 1 : (response.grpcStatus ?? 2);
      call.span?.end(grpcStatus, outcome.error?.reason);
      recordCall(log, infoEnabled(), metrics, {
        requestId,
        path: call.path,
        service: call.route.service,
        method: call.route.method,
        upstream: call.upstream,
        grpcStatus,
        reason: outcome.error?.reason,
        cause: outcome.error?.cause,
        clientCancelled: outcome.clientCancelled,
        relayed: call.relayed,
        durationMs: performance.now() - started,
        bytesIn: outcome.bytesIn,
        bytesOut: response.bytesOut,
      });
    };
    const fail = (err: unknown) => {
      const error = toGatewayError(err);
      response.fail(error);
      req.resume(); // the body is not read: let the connection go on
      finishCall({ bytesIn: 0, error, clientCancelled: false });
    };
    try {
      if (draining) throw new GatewayError("shutting_down", "the gateway is shutting down");
      const method = parseMethodPath(call.path);
      call.path = method.path;
      const pool = router.route(method.service);
      call.upstream = pool.name;
      authorizer.checkMethodExists(method);
      // Labels only for routable methods: clients cannot mint new series.
      call.route = metrics.labels(method.service, method.method);
      call.span = tracer.start(headers, method, pool.name);
      const timeout = parseGrpcTimeout(headerValue(headers, "grpc-timeout"));
      const timeoutMs =
        timeout === undefined ? undefined : Math.min(timeout, config.limits.maxTimeoutMs);
      const start = (identity: Metadata) => {
        const upstreamHeaders = buildUpstreamHeaders(headers, {
          path: method.path,
          authority: pool.authority,
          contentType: protocol.upstreamContentType,
          timeoutMs,
          identity,
          requestId,
          remoteAddress: req.socket?.remoteAddress,
          forwardedProto,
        });
        call.span?.inject(upstreamHeaders);
        call.relayed = true;
        metrics.callStarted(call.route.service, call.route.method);
        const handle = relay({
          req,
          response,
          pool,
          headers: upstreamHeaders,
          textRequest: protocol.text,
          maxMessageBytes: config.limits.maxMessageBytes,
          timeoutMs,
          onFinish: (outcome) => {
            inFlight.delete(handle);
            finishCall(outcome);
          },
        });
        inFlight.add(handle);
      };
      const identity = authorizer.check(method, headers, connectionOf(req));
      if (identity instanceof Promise) {
        // Hold the body until the token is verified (it is not read meanwhile).
        identity.then((id) => {
          try {
            start(id);
          } catch (err) {
            fail(err);
          }
        }, fail);
      } else start(identity);
    } catch (err) {
      fail(err);
    }
  }

  let releaseReclaim: (() => void) | undefined;
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
      if (config.memory.reclaimAfterBytes > 0 && releaseReclaim === undefined)
        releaseReclaim = holdBufferReclaim(config.memory.reclaimAfterBytes);
      return { host: config.listen.host, port, url: `${scheme}://${host}:${port}`, adminUrl };
    },
    async close() {
      draining = true;
      releaseReclaim?.();
      releaseReclaim = undefined;
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
  res: RawResponse,
  baseHeaders: OutgoingHttpHeaders,
  contentType: string | undefined,
  log: FastifyBaseLogger,
  call: { reqId: string; path: string | undefined },
): void {
  const err = new GatewayError(
    "unsupported_media_type",
    `content-type ${JSON.stringify(contentType ?? null)} is not gRPC-Web; send application/grpc-web+proto or application/grpc-web-text`,
  );
  (res as ServerResponse).writeHead(415, {
    ...baseHeaders,
    "content-type": "text/plain; charset=utf-8",
    "grpc-status": String(err.code),
    "grpc-message": err.grpcMessage,
    "grpc-edge-reason": err.reason,
  });
  res.end(`${err.grpcMessage}\n`);
  log.info(
    { ...call, contentType, reason: err.reason, httpStatus: 415 },
    "call rejected: not gRPC-Web",
  );
}

interface CallState {
  route: { readonly service: string; readonly method: string };
  path: string;
  upstream: string | undefined;
  relayed: boolean;
  span: CallSpan | undefined;
}

const UNKNOWN_ROUTE = Object.freeze({ service: "unknown", method: "unknown" });

type RawRequest = IncomingMessage | Http2ServerRequest;

/** The browser's connection: its HTTP/2 session, or its HTTP/1.1 socket. */
function connectionOf(req: RawRequest): object | undefined {
  return "stream" in req ? req.stream.session : req.socket;
}

/**
 * The listener, made here rather than by Fastify so that calls skip its
 * router: plain HTTP/1.1, or TLS with ALPN h2 and http/1.1. Timeouts as
 * Fastify sets them for its own servers.
 */
function createListener(
  tls: { cert: Buffer; key: Buffer } | undefined,
  listener: (req: RawRequest, res: RawResponse) => void,
): Server | Http2SecureServer {
  if (tls === undefined) {
    const server = createServer(listener);
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.requestTimeout = 0;
    return server;
  }
  const server = createSecureServer({ allowHTTP1: true, cert: tls.cert, key: tls.key }, listener);
  server.on("session", (session) =>
    session.setTimeout(KEEP_ALIVE_TIMEOUT_MS, () => session.close()),
  );
  return server;
}

/** Idle keep-alive connections and HTTP/2 sessions close after this (Fastify's default). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The call's request id: the client's x-request-id when valid, else a new UUID. */
function requestIdOf(headers: IncomingHttpHeaders): string {
  return validRequestId(headers["x-request-id"]) ?? randomUUID();
}

/** A client-sent x-request-id is kept when it is short and printable. */
function validRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && /^[\w.:-]{1,128}$/.test(value) ? value : undefined;
}
