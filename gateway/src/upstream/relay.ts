/**
 * Relays one call: browser request body → upstream HTTP/2 stream, upstream
 * response → browser, frames passed through as bytes (DESIGN.md decision 1).
 * Backpressure holds in both directions (pause/resume on drain); at most a
 * frame prefix is held; whichever side fails, the other is told at once.
 */
import type { OutgoingHttpHeaders } from "node:http";
import { type ClientHttp2Stream, constants, type IncomingHttpHeaders } from "node:http2";
import type { Readable } from "node:stream";
import type { WebResponse } from "../edge/web-response.ts";
import { GatewayError, toGatewayError } from "../errors.ts";
import { Base64Decoder } from "../grpc-web/base64-stream.ts";
import { isGrpcContentType } from "../grpc-web/content-type.ts";
import { FrameScanner } from "../grpc-web/frame-scanner.ts";
import { codeFromHttpStatus } from "../grpc-web/grpc-status.ts";
import { filterResponseHeaders } from "./header-rewrite.ts";
import { errorFromRstCode, errorFromUpstreamFailure } from "./node-error.ts";
import type { UpstreamPool } from "./pool.ts";

export interface RelayOptions {
  /** The browser's request body, as Fastify's body parser handed it over. */
  readonly body: Readable;
  readonly response: WebResponse;
  readonly pool: UpstreamPool;
  readonly headers: OutgoingHttpHeaders;
  /** The request body is grpc-web-text (base64). */
  readonly textRequest: boolean;
  readonly maxMessageBytes: number;
  readonly timeoutMs: number | undefined;
  readonly onFinish: (outcome: RelayOutcome) => void;
}

export interface RelayOutcome {
  readonly bytesIn: number;
  /** The gateway-made error the call ended with, if any. */
  readonly error: GatewayError | undefined;
  /** The browser went away before the response ended. */
  readonly clientCancelled: boolean;
}

export interface RelayHandle {
  /** Ends the call with this error and cancels the upstream stream. */
  abort(err: GatewayError): void;
}

export function relay(options: RelayOptions): RelayHandle {
  const { body, response, pool, maxMessageBytes } = options;
  const upstreamName = `upstream ${pool.name}`;
  let bytesIn = 0;
  let failure: GatewayError | undefined;
  let clientCancelled = false;
  let done = false;
  let trailers: IncomingHttpHeaders | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** The upstream stream, once the pool has opened it (it may first verify a session). */
  let stream: ClientHttp2Stream | undefined;
  let onRequestData: ((chunk: Buffer) => void) | undefined;

  const finish = () => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    if (onRequestData !== undefined) body.off("data", onRequestData);
    options.onFinish({ bytesIn, error: failure, clientCancelled });
  };

  const cancelUpstream = () => {
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  };

  /** Ends the browser response with err and cancels the upstream stream. */
  const abort = (err: GatewayError) => {
    if (done) return;
    failure = err;
    response.fail(err);
    cancelUpstream();
    finish();
  };

  /** No stream could be opened: the call ends with the upstream's failure. */
  const unavailable = (err: unknown) => {
    if (done) return;
    failure = errorFromUpstreamFailure(err, upstreamName);
    response.fail(failure);
    finish();
  };

  let opened: ClientHttp2Stream | Promise<ClientHttp2Stream>;
  try {
    opened = options.pool.request(options.headers);
  } catch (err) {
    failure = errorFromUpstreamFailure(err, upstreamName);
    response.fail(failure);
    queueMicrotask(finish); // after the caller has registered the handle
    return { abort() {} };
  }

  if (options.timeoutMs !== undefined) {
    const ms = options.timeoutMs;
    timer = setTimeout(
      () => abort(new GatewayError("deadline_exceeded", `deadline of ${ms} ms exceeded`)),
      ms,
    );
  }
  // The browser went away: cancel upstream at once (checklist item 15).
  response.onClose(() => {
    if (done || response.finished) return;
    clientCancelled = true;
    cancelUpstream();
    finish();
  });

  if (opened instanceof Promise) {
    opened.then((s) => (done ? s.close(constants.NGHTTP2_CANCEL) : attach(s)), unavailable);
  } else attach(opened);
  return { abort };

  /** Wires the browser's body and the upstream stream to each other. */
  function attach(upstream: ClientHttp2Stream): void {
    stream = upstream;
    // Browser → upstream.
    const decoder = options.textRequest ? new Base64Decoder() : undefined;
    const requestFrames = new FrameScanner({
      maxMessageBytes,
      direction: "request",
      allowCompressed: true,
      allowTrailer: false,
    });
    const resumeRequest = () => body.resume();
    onRequestData = (chunk: Buffer) => {
      bytesIn += chunk.length;
      try {
        const data = decoder === undefined ? chunk : decoder.push(chunk);
        requestFrames.push(data);
        if (!upstream.write(data)) {
          // Listen for drain only while paused: most calls never need it.
          body.pause();
          upstream.once("drain", resumeRequest);
        }
      } catch (err) {
        abort(toGatewayError(err));
      }
    };
    body.on("data", onRequestData);
    body.once("end", () => {
      if (done) return;
      try {
        decoder?.end();
        if (!requestFrames.atBoundary) {
          throw new GatewayError("malformed_frame", "request body ends inside a frame");
        }
        upstream.end();
      } catch (err) {
        abort(toGatewayError(err));
      }
    });

    // Upstream → browser.
    const responseFrames = new FrameScanner({
      maxMessageBytes,
      direction: "response",
      allowCompressed: false,
      allowTrailer: false,
    });
    const resumeStream = () => upstream.resume();
    const onResponseData = (chunk: Buffer): void => {
      if (done) return;
      try {
        responseFrames.push(chunk);
      } catch (err) {
        abort(toGatewayError(err));
        return;
      }
      if (!response.write(chunk)) {
        upstream.pause();
        response.onceDrained(resumeStream);
      }
    };
    upstream.on("response", (headers, flags) => {
      if (done) return;
      const status = Number(headers[":status"]);
      if (status !== 200 || !isGrpcContentType(headers["content-type"])) {
        const what = `HTTP ${status} (${String(headers["content-type"] ?? "no content-type")})`;
        const code = status === 200 ? undefined : codeFromHttpStatus(status);
        abort(
          new GatewayError(
            "upstream_http_status",
            `${upstreamName} answered ${what}, not gRPC`,
            code === undefined ? {} : { code },
          ),
        );
        return;
      }
      if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
        // Trailers-only reply: status and metadata stay in the headers (item 6).
        trailers = headers;
      } else {
        response.sendHeaders(filterResponseHeaders(headers));
      }
      // Read the body only now: Node emits 'response' on the next tick, but a
      // DATA frame that came in the same socket read would be emitted at once,
      // before the headers were handled (seen under load: ERR_HTTP_HEADERS_SENT).
      upstream.on("data", onResponseData);
    });
    upstream.on("trailers", (received) => {
      trailers = received;
    });
    // 'end' comes after every buffered 'data', so the trailer frame is last.
    upstream.on("end", () => {
      // Without trailers, 'close' decides: an RST_STREAM also ends the readable side.
      if (done || trailers === undefined) return;
      if (trailers["grpc-status"] === undefined) {
        abort(
          new GatewayError(
            "upstream_missing_status",
            `${upstreamName} ended the stream without grpc-status`,
          ),
        );
        return;
      }
      if (!responseFrames.atBoundary) {
        abort(
          new GatewayError("upstream_reset", `${upstreamName} ended the stream inside a frame`),
        );
        return;
      }
      response.end(filterResponseHeaders(trailers));
      // The upstream answered before the upload ended: the call is over, so
      // the stream is reset with NO_ERROR (as grpc-go's client does) and the
      // rest of the browser's body is discarded (edge/discard-body.ts).
      if (!body.readableEnded && !upstream.closed) upstream.close(constants.NGHTTP2_NO_ERROR);
      finish();
    });
    let streamError: unknown;
    upstream.on("error", (err) => {
      streamError = err;
    });
    upstream.on("close", () => {
      if (done) return;
      const err =
        streamError !== undefined
          ? errorFromUpstreamFailure(streamError, upstreamName)
          : upstream.rstCode !== undefined && upstream.rstCode !== constants.NGHTTP2_NO_ERROR
            ? errorFromRstCode(upstream.rstCode, upstreamName)
            : new GatewayError(
                "upstream_missing_status",
                `${upstreamName} closed the stream without grpc-status`,
              );
      abort(err);
    });
  }
}
