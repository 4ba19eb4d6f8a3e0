/**
 * The rest of a request body nobody will read: the response went out first
 * (an early error such as a message over limits.maxMessageBytes or a refused
 * token, or an upstream that answered before the upload ended) while the
 * browser is still sending.
 *
 * Closing the connection then makes the gateway's TCP stack answer the
 * bytes still arriving with a reset, which can destroy the response before
 * the browser reads it (RFC 9112 §9.6): the browser reports a network error
 * (net::ERR_CONNECTION_RESET, EPIPE) instead of the gRPC status. So:
 *
 * - HTTP/1.1: the rest of the body is read and dropped, at most
 *   `maxBytes` and for at most `timeoutMs` after the response; then the
 *   connection carries on (keep-alive). Past either bound it is closed.
 * - HTTP/2: once the response is complete the stream alone is reset with
 *   NO_ERROR, which asks the client to stop sending without failing the
 *   response (RFC 9113 §8.1); the connection and its other streams go on.
 */
import { type IncomingMessage, ServerResponse } from "node:http";
import { constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";

export interface DiscardLimits {
  /** Body bytes read and dropped after the response, at most (HTTP/1.1). */
  readonly maxBytes: number;
  /** How long after the response the body may take to end (HTTP/1.1). */
  readonly timeoutMs: number;
}

/** Starts discarding what is left of `request`'s body; nothing if it has ended. */
export function discardBody(
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
  limits: DiscardLimits,
): void {
  if (request.readableEnded || request.destroyed) return;
  if (!(response instanceof ServerResponse)) {
    // Node sends RST_STREAM(NO_ERROR) only after the response's last frame.
    const { stream } = request as Http2ServerRequest;
    request.resume();
    if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
    return;
  }
  const http1 = request as IncomingMessage;
  let bytes = 0;
  const stop = () => {
    clearTimeout(timer);
    http1.off("data", count);
    http1.off("end", stop);
    http1.off("close", stop);
  };
  const close = () => {
    stop();
    const socket = http1.socket;
    if (response.writableFinished) socket.destroy();
    else response.once("finish", () => socket.destroy());
  };
  const count = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limits.maxBytes) close();
  };
  const timer = setTimeout(close, limits.timeoutMs);
  timer.unref();
  http1.on("data", count);
  http1.once("end", stop);
  http1.once("close", stop);
  http1.resume();
}
