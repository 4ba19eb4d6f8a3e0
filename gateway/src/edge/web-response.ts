/**
 * Writes one gRPC-Web response to the browser, over HTTP/1.1 or HTTP/2.
 * Knows whether headers went out, so that every failure still ends as a
 * well-formed gRPC-Web response: a trailers-only reply (status in the
 * headers, empty body) before headers, a trailer frame after (DESIGN.md
 * decision 2; checklist items 4-6 and 14).
 */
import { type OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import type { Socket } from "node:net";
import type { GatewayError } from "../errors.ts";
import { encodeBase64Chunk } from "../grpc-web/base64-stream.ts";
import { encodeGrpcMessage } from "../grpc-web/grpc-status.ts";
import { encodeTrailerFrame } from "../grpc-web/trailer-frame.ts";

export type RawResponse = ServerResponse | Http2ServerResponse;

export interface WebResponseOptions {
  readonly contentType: string;
  readonly text: boolean;
  /** Headers every response carries (CORS, request id). */
  readonly baseHeaders: OutgoingHttpHeaders;
}

/** The grpc-status/-message trailers for a gateway-made error. */
export function errorTrailers(err: GatewayError): Record<string, string> {
  return {
    ...err.headers,
    "grpc-status": String(err.code),
    "grpc-message": encodeGrpcMessage(err.grpcMessage),
    "grpc-edge-reason": err.reason,
  };
}

/**
 * Bytes held back to coalesce writes: a unary reply's message and trailer
 * frame leave in one write (with content-length) instead of a chunked
 * header+message write and a second write for the trailer. Past this many
 * bytes, or after two turns of the event loop (setImmediate), what is held
 * is written at once, so streams are not delayed.
 */
const COALESCE_BYTES = 16 * 1024;

/** Relayed chunks below this size are joined per event-loop turn (HTTP/1.1). */
const SMALL_CHUNK_BYTES = 2048;

export class WebResponse {
  private readonly res: RawResponse;
  private readonly options: WebResponseOptions;
  /** Response headers decided (the upstream answered) but not yet written. */
  private heldHeaders: OutgoingHttpHeaders | undefined;
  /**
   * Message bytes not yet written (raw frames, before base64): while the
   * headers are held (a unary reply in the making), and after them small
   * chunks held until the turn ends (HTTP/1.1, see cork()).
   */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private flushScheduled = false;
  /** The response when it is HTTP/1.1 (its socket can be corked), else undefined. */
  private readonly http1: ServerResponse | undefined;
  /** write() corked the socket; it is uncorked in the check phase (setImmediate). */
  private corkPending = false;
  /** Headers are decided: a later end() sends a trailer frame, not trailers-only. */
  headersSent = false;
  finished = false;
  bytesOut = 0;
  /** The grpc-status the browser got (or will get), once known. */
  grpcStatus: number | undefined;

  constructor(res: RawResponse, options: WebResponseOptions) {
    this.res = res;
    this.options = options;
    this.http1 = res instanceof ServerResponse ? res : undefined;
  }

  /** Sends the response headers with the upstream's metadata. */
  sendHeaders(metadata: OutgoingHttpHeaders): void {
    if (this.headersSent || this.finished) return;
    this.headersSent = true;
    this.heldHeaders = {
      ...this.options.baseHeaders,
      ...metadata,
      "content-type": this.options.contentType,
    };
    this.scheduleFlush();
  }

  /** Relays message bytes; false means the browser is slow (backpressure). */
  write(chunk: Uint8Array): boolean {
    if (this.finished) return true;
    if (this.heldHeaders !== undefined) return this.hold(chunk) || this.flush();
    return this.writeOut(chunk);
  }

  /** Called once when the browser's connection or stream closes. */
  onClose(listener: () => void): void {
    this.res.once("close", listener);
  }

  /** Called once the response has been handed to the connection in full. */
  onFinished(listener: () => void): void {
    this.res.once("finish", listener);
  }

  /** Called once the browser has taken what was written (after write returned false). */
  onceDrained(listener: () => void): void {
    this.res.once("drain", listener);
  }

  /** Ends with a trailer frame (after headers) or trailers-only (before). */
  end(trailers: OutgoingHttpHeaders): void {
    if (this.finished) return;
    this.grpcStatus = Number(trailers["grpc-status"]);
    const res = this.res as ServerResponse;
    if (!this.headersSent) {
      this.finished = true;
      this.headersSent = true;
      res.writeHead(200, {
        ...this.options.baseHeaders,
        ...trailers,
        "content-type": this.options.contentType,
        "content-length": "0",
      });
      res.end();
      return;
    }
    this.finished = true;
    const frame = encodeTrailerFrame(trailers);
    const headers = this.heldHeaders;
    this.heldHeaders = undefined;
    if (headers !== undefined) {
      // Still held (a unary reply): headers, messages and trailer frame in one write.
      this.held.push(frame);
      const out = this.encode(this.takeHeld());
      this.bytesOut += out.length;
      headers["content-length"] = String(out.length);
      res.writeHead(200, headers);
      res.end(out);
      return;
    }
    // A stream: the small chunks held this turn, then the trailer frame.
    if (this.held.length > 0) this.writeEncoded(this.takeHeld());
    const out = this.encode(frame);
    this.bytesOut += out.length;
    res.end(out);
  }

  /** Ends with a gateway-made error status. */
  fail(err: GatewayError): void {
    this.end(errorTrailers(err));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Two turns of the event loop: an upstream that writes its trailers
    // just after the message (Node's servers do) gets one more socket read
    // to complete the reply; a stream waits microseconds, not a timer.
    setImmediate(() =>
      setImmediate(() => {
        this.flushScheduled = false;
        if (!this.finished) this.flush();
      }),
    );
  }

  /** Writes held headers and bytes; returns the write's backpressure signal. */
  private flush(): boolean {
    const res = this.res as ServerResponse;
    if (this.heldHeaders !== undefined) {
      res.writeHead(200, this.heldHeaders);
      this.heldHeaders = undefined;
      if (this.held.length === 0) {
        res.flushHeaders();
        return true;
      }
    }
    if (this.held.length === 0) return true;
    return this.writeOut(this.takeHeld());
  }

  private writeOut(chunk: Uint8Array): boolean {
    if (this.http1 !== undefined && !this.corkPending) this.cork(this.http1.socket);
    // Small chunks are held until the turn ends (or 16 KiB): one HTTP/1.1 chunk for many.
    if (this.corkPending && chunk.length < SMALL_CHUNK_BYTES)
      return this.hold(chunk) || this.writeEncoded(this.takeHeld());
    const flushed = this.held.length > 0 ? this.writeEncoded(this.takeHeld()) : true; // keep the order
    return this.writeEncoded(chunk) && flushed;
  }

  /** Holds a chunk; false once 16 KiB are held and they should be written. */
  private hold(chunk: Uint8Array): boolean {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    return this.heldBytes < COALESCE_BYTES;
  }

  private writeEncoded(chunk: Uint8Array): boolean {
    const out = this.encode(chunk);
    this.bytesOut += out.length;
    return (this.res as ServerResponse).write(out);
  }

  /**
   * HTTP/1.1: hold the socket's writes until this turn of the event loop has
   * delivered everything the upstream sent. One upstream read brings several
   * DATA chunks (one per TLS record) and Node uncorks after each chunk's
   * tick, so a large message would leave in several writes, each a send and
   * a wake-up of the reader; corked, a turn's chunks leave in one writev.
   * Small chunks (an upstream that sends each small message in a TLS record
   * of its own, as grpc-go does) are also joined into one HTTP/1.1 chunk per
   * turn, at most 16 KiB held. Backpressure is unchanged: write() still
   * returns false past the socket's high-water mark. HTTP/2 needs none of
   * this: Node's HTTP/2 session already writes once per turn.
   */
  private cork(socket: Socket | null): void {
    if (socket === null) return; // a pipelined response not yet at the head of its socket
    this.corkPending = true;
    socket.cork();
    setImmediate(() => {
      this.corkPending = false;
      // end() uncorks the socket completely; the socket may already carry
      // the next response on this keep-alive connection, so leave it alone.
      if (this.finished) return;
      // Its backpressure signal reaches the relay with the next write.
      if (this.held.length > 0) this.writeEncoded(this.takeHeld());
      socket.uncork();
    });
  }

  private takeHeld(): Uint8Array {
    const held = this.held;
    const all = held.length === 1 ? (held[0] as Uint8Array) : Buffer.concat(held);
    this.held = [];
    this.heldBytes = 0;
    return all;
  }

  private encode(bytes: Uint8Array): Uint8Array {
    return this.options.text ? encodeBase64Chunk(bytes) : bytes;
  }
}
