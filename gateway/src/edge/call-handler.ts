/**
 * One gRPC-Web call, step by step as DESIGN.md draws it:
 *
 *   1 CORS               @fastify/cors in onRequest (edge/cors.ts); preflights end there
 *   2 protocol           grpc-web or grpc-web-text, +proto or +json (grpc-web/content-type.ts)
 *   3 route              /<package.Service>/<Method> → upstream pool (routing/router.ts)
 *   4-5 authenticate,    bearer token → identity; per-method policy (auth/auth-step.ts)
 *       authorize
 *   6 rewrite headers    hop-by-hop and identity headers out, verified identity in
 *                        (upstream/header-rewrite.ts)
 *   7 relay              frames both ways (upstream/relay.ts) into the browser's
 *                        response (edge/web-response.ts)
 *
 * Every call ends in exactly one record: an access log line and its metrics
 * (ops/call-record.ts). The handler also owns the calls in flight, so that a
 * shutdown can let them finish and then end the rest.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Readable } from "node:stream";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { AuthStep, Metadata } from "../auth/auth-step.ts";
import type { GatewayConfig } from "../config/config.ts";
import { GatewayError, toGatewayError } from "../errors.ts";
import {
  acceptsTextOnly,
  parseWebContentType,
  type WebProtocol,
} from "../grpc-web/content-type.ts";
import { parseGrpcTimeout } from "../grpc-web/grpc-timeout.ts";
import { recordCall } from "../ops/call-record.ts";
import type { GatewayMetrics } from "../ops/metrics.ts";
import type { CallSpan, CallTracer } from "../ops/tracing.ts";
import { parseMethodPath, type Router } from "../routing/router.ts";
import { buildUpstreamHeaders } from "../upstream/header-rewrite.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import { type RelayHandle, type RelayOutcome, relay } from "../upstream/relay.ts";
import { discardBody } from "./discard-body.ts";
import { rejectMediaType } from "./media-type.ts";
import { type RawResponse, WebResponse } from "./web-response.ts";

export interface CallHandlerOptions {
  readonly limits: GatewayConfig["limits"];
  readonly router: Router<UpstreamPool>;
  readonly auth: AuthStep;
  readonly metrics: GatewayMetrics;
  readonly tracer: CallTracer;
  readonly log: FastifyBaseLogger;
}

export interface CallHandler {
  /** Runs a call whose reply is hijacked: the handler writes the raw response. */
  handle(request: FastifyRequest, reply: FastifyReply): void;
  /** Answers a call that a hook, a plugin or the body parser refused before handle(). */
  refuse(request: FastifyRequest, reply: FastifyReply, err: GatewayError): void;
  /** Calls in flight. */
  active(): number;
  /**
   * New calls get 14 shutting_down from now on; calls still running after
   * `timeoutMs` are ended with it. `onEnded` runs as each call's response
   * finishes during the drain (to close connections left idle).
   */
  drain(timeoutMs: number, onEnded: () => void): void;
  /** Ends every call still in flight with 14 shutting_down. */
  abortAll(): void;
}

type RawRequest = IncomingMessage | Http2ServerRequest;

/** Route labels for calls that did not route (clients cannot mint new series). */
const UNKNOWN_ROUTE = Object.freeze({ service: "unknown", method: "unknown" });

interface CallState {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly requestId: string;
  readonly started: number;
  path: string;
  route: { readonly service: string; readonly method: string };
  upstream: string | undefined;
  relayed: boolean;
  span: CallSpan | undefined;
}

const newCall = (request: FastifyRequest, reply: FastifyReply): CallState => ({
  request,
  reply,
  requestId: request.id,
  started: performance.now(),
  path: request.url,
  route: UNKNOWN_ROUTE,
  upstream: undefined,
  relayed: false,
  span: undefined,
});

export function createCallHandler(options: CallHandlerOptions): CallHandler {
  const { limits, router, auth, metrics, tracer, log } = options;
  const discardLimits = {
    maxBytes: limits.discardBodyMaxBytes,
    timeoutMs: limits.discardBodyTimeoutMs,
  };
  const inFlight = new Set<RelayHandle>();
  let draining = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let onDrainedCall: (() => void) | undefined;
  // An app without a logger gives Fastify's null logger, which has no levels.
  const levels = log as unknown as Partial<Pick<Logger, "isLevelEnabled">>;
  const infoEnabled = () => levels.isLevelEnabled?.("info") ?? false;

  /** The browser's response for a call: the protocol's content type, text or binary. */
  const webResponse = (request: FastifyRequest, reply: FastifyReply, protocol: WebProtocol) => {
    const textOnly = acceptsTextOnly(request.headers.accept);
    const headers = reply.getHeaders() as OutgoingHttpHeaders;
    headers["x-request-id"] = request.id;
    return new WebResponse(reply.raw as RawResponse, {
      contentType:
        protocol.text || !textOnly
          ? protocol.responseContentType
          : "application/grpc-web-text+proto",
      text: protocol.text || textOnly,
      baseHeaders: headers,
    });
  };

  const finish = (call: CallState, response: WebResponse, outcome: RelayOutcome) => {
    const grpcStatus = outcome.clientCancelled ? 1 : (response.grpcStatus ?? 2);
    call.span?.end(grpcStatus, outcome.error?.reason);
    recordCall(log, infoEnabled(), metrics, {
      requestId: call.requestId,
      path: call.path,
      service: call.route.service,
      method: call.route.method,
      upstream: call.upstream,
      grpcStatus,
      reason: outcome.error?.reason,
      cause: outcome.error?.cause,
      clientCancelled: outcome.clientCancelled,
      relayed: call.relayed,
      durationMs: performance.now() - call.started,
      bytesIn: outcome.bytesIn,
      bytesOut: response.bytesOut,
    });
    // The response may end before the upload does (an early error, an
    // upstream that answered first): the browser must still read it.
    discardBody(call.request.raw as RawRequest, call.reply.raw as RawResponse, discardLimits);
    if (draining) response.onFinished(() => onDrainedCall?.());
  };

  /** Ends a call that never reached the relay (its body is discarded in finish). */
  const fail = (call: CallState, response: WebResponse, err: unknown) => {
    const error = toGatewayError(err);
    response.fail(error);
    finish(call, response, { bytesIn: 0, error, clientCancelled: false });
  };

  function handle(request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw as RawRequest;
    const headers = request.headers;
    // 2 protocol (the body parser admitted only gRPC-Web content types, but
    // a POST without a body reaches here without one).
    const protocol = parseWebContentType(headers["content-type"]);
    if (protocol === undefined) {
      rejectMediaType(request, reply, log, discardLimits);
      return;
    }
    const body = (request.body ?? raw) as Readable;
    const response = webResponse(request, reply, protocol);
    const call = newCall(request, reply);
    try {
      if (draining) throw new GatewayError("shutting_down", "the gateway is shutting down");
      // 3 route
      const method = parseMethodPath(call.path);
      call.path = method.path;
      const pool = router.route(method);
      call.upstream = pool.name;
      call.route = metrics.labels(method.service, method.method);
      call.span = tracer.start(headers, method, pool.name);
      const timeout = parseGrpcTimeout(headerValue(headers, "grpc-timeout"));
      const timeoutMs = timeout === undefined ? undefined : Math.min(timeout, limits.maxTimeoutMs);
      const start = (identity: Metadata) => {
        // 6 rewrite headers
        const upstreamHeaders = buildUpstreamHeaders(headers, {
          path: method.path,
          authority: pool.authority,
          contentType: protocol.upstreamContentType,
          timeoutMs,
          identity,
          requestId: call.requestId,
          remoteAddress: raw.socket?.remoteAddress,
          forwardedProto: request.protocol,
        });
        call.span?.inject(upstreamHeaders);
        call.relayed = true;
        metrics.callStarted(call.route.service, call.route.method);
        // 7 relay
        const handle = relay({
          body,
          response,
          pool,
          headers: upstreamHeaders,
          textRequest: protocol.text,
          maxMessageBytes: limits.maxMessageBytes,
          timeoutMs,
          onFinish: (outcome) => {
            inFlight.delete(handle);
            finish(call, response, outcome);
          },
        });
        inFlight.add(handle);
      };
      // 4-5 authenticate, authorize: at once for a public method or a known
      // token; the body waits unread while a new token is verified.
      const identity = auth.authorize(
        {
          path: method.path,
          service: method.service,
          method: method.method,
          headers,
          httpMethod: request.method,
          scheme: request.protocol,
          host: request.host,
        },
        connectionOf(raw),
      );
      if (identity instanceof Promise) {
        identity.then(
          (id) => {
            try {
              start(id);
            } catch (err) {
              fail(call, response, err);
            }
          },
          (err: unknown) => fail(call, response, err),
        );
      } else start(identity);
    } catch (err) {
      fail(call, response, err);
    }
  }

  function refuse(request: FastifyRequest, reply: FastifyReply, err: GatewayError): void {
    reply.hijack();
    const protocol = parseWebContentType(request.headers["content-type"]);
    if (err.reason === "unsupported_media_type" || protocol === undefined) {
      rejectMediaType(request, reply, log, discardLimits);
      return;
    }
    const call = newCall(request, reply);
    try {
      const method = parseMethodPath(call.path);
      call.path = method.path;
      call.upstream = router.route(method).name;
      call.route = metrics.labels(method.service, method.method);
    } catch {
      // Not a routable method: counted under "unknown".
    }
    fail(call, webResponse(request, reply, protocol), err);
  }

  const abortAll = () => {
    for (const handle of [...inFlight])
      handle.abort(
        new GatewayError("shutting_down", "the gateway shut down before the call finished"),
      );
  };

  return {
    handle,
    refuse,
    active: () => inFlight.size,
    drain(timeoutMs, onEnded) {
      draining = true;
      onDrainedCall = onEnded;
      if (inFlight.size === 0) return;
      drainTimer = setTimeout(abortAll, timeoutMs);
      drainTimer.unref();
    },
    abortAll() {
      clearTimeout(drainTimer);
      abortAll();
    },
  };
}

/** The browser's connection: its HTTP/2 session, or its HTTP/1.1 socket. */
function connectionOf(req: RawRequest): object | undefined {
  return "stream" in req ? req.stream.session : req.socket;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
