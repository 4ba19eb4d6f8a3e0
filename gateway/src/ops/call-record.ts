/**
 * What is recorded when a call ends: one access log line and the metrics,
 * from the same record, so the log line carries the same labels the metrics
 * count.
 */
import type { FastifyBaseLogger } from "fastify";
import { codeName } from "../grpc-web/grpc-status.ts";
import type { GatewayMetrics } from "./metrics.ts";

export interface CallRecord {
  /** x-request-id: the client's, when valid, or a new UUID. */
  readonly requestId: string;
  /** The request path, e.g. /demo.notes.v1.NotesService/GetNote. */
  readonly path: string;
  /** Bounded route labels ("unknown" when the path did not route). */
  readonly service: string;
  readonly method: string;
  readonly upstream: string | undefined;
  readonly grpcStatus: number;
  readonly reason: string | undefined;
  readonly cause: unknown;
  readonly clientCancelled: boolean;
  readonly relayed: boolean;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export function recordCall(
  log: FastifyBaseLogger,
  logEnabled: boolean,
  metrics: GatewayMetrics,
  record: CallRecord,
): void {
  metrics.callFinished(record);
  if (!logEnabled) return; // below the log level: build nothing
  const { cause, relayed: _relayed, requestId, ...fields } = record;
  log.info(
    {
      reqId: requestId,
      ...fields,
      grpcCode: codeName(record.grpcStatus),
      durationMs: Math.round(record.durationMs * 1000) / 1000,
      ...(cause === undefined
        ? {}
        : { cause: cause instanceof Error ? cause.message : String(cause) }),
    },
    "call",
  );
}
