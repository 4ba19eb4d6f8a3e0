/**
 * The answer to a body that is not gRPC-Web: HTTP 415 with the CORS headers
 * the reply already carries, so the browser can read why (DESIGN.md
 * checklist item 1), and the reason in headers and text.
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "../errors.ts";
import { type DiscardLimits, discardBody } from "./discard-body.ts";

/** Writes the 415 on the hijacked reply; the body is discarded (edge/discard-body.ts). */
export function rejectMediaType(
  request: FastifyRequest,
  reply: FastifyReply,
  log: FastifyBaseLogger,
  discard: DiscardLimits,
): void {
  const contentType = request.headers["content-type"];
  const err = new GatewayError(
    "unsupported_media_type",
    `content-type ${JSON.stringify(contentType ?? null)} is not gRPC-Web; send application/grpc-web+proto or application/grpc-web-text`,
  );
  (reply.raw as ServerResponse).writeHead(415, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    "x-request-id": request.id,
    "content-type": "text/plain; charset=utf-8",
    "grpc-status": String(err.code),
    "grpc-message": err.grpcMessage,
    "grpc-edge-reason": err.reason,
  });
  reply.raw.end(`${err.grpcMessage}\n`);
  discardBody(request.raw, reply.raw, discard);
  log.info(
    { reqId: request.id, path: request.url, contentType, reason: err.reason, httpStatus: 415 },
    "call rejected: not gRPC-Web",
  );
}
