/**
 * A span per call with OpenTelemetry, when `tracing.openTelemetry` is on and
 * the process has an SDK registered (e.g. `NODE_OPTIONS="--import ./otel.mjs"`).
 * The span continues the browser's W3C trace context and becomes the parent
 * the upstream sees in `traceparent`. Off, the per-call cost is one branch,
 * and @opentelemetry/api is not even loaded.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { MethodPath } from "../routing/router.ts";

export interface CallSpan {
  /** Writes this span's context into the upstream request headers. */
  inject(headers: OutgoingHttpHeaders): void;
  end(grpcStatus: number, reason: string | undefined): void;
}

export interface CallTracer {
  start(incoming: IncomingHttpHeaders, method: MethodPath, upstream: string): CallSpan | undefined;
}

const DISABLED: CallTracer = { start: () => undefined };

export async function createCallTracer(enabled: boolean): Promise<CallTracer> {
  if (!enabled) return DISABLED;
  const { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = await import(
    "@opentelemetry/api"
  );
  const tracer = trace.getTracer("@grpc-edge/gateway");
  return {
    start(incoming, method, upstream) {
      const parent = propagation.extract(ROOT_CONTEXT, incoming);
      const span = tracer.startSpan(
        `${method.service}/${method.method}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            "rpc.system": "grpc",
            "rpc.service": method.service,
            "rpc.method": method.method,
            "grpc_edge.upstream": upstream,
          },
        },
        parent,
      );
      const context = trace.setSpan(parent, span);
      return {
        inject(headers) {
          propagation.inject(context, headers);
        },
        end(grpcStatus, reason) {
          span.setAttribute("rpc.grpc.status_code", grpcStatus);
          if (reason !== undefined) span.setAttribute("grpc_edge.reason", reason);
          if (grpcStatus !== 0)
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: reason ?? `grpc-status ${grpcStatus}`,
            });
          span.end();
        },
      };
    },
  };
}
