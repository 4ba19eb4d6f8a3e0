/**
 * Writes one gRPC-Web response to the browser, over HTTP/1.1 or HTTP/2.
 * Knows whether headers went out, so that every failure still ends as a
 * well-formed gRPC-Web response: a trailers-only reply (status in the
 * headers, empty body) before headers, a trailer frame after (DESIGN.md
 * decision 2; checklist items 4-6 and 14).
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { encodeBase64Chunk } from "./base64-stream.ts";
import type { GatewayError } from "./errors.ts";
import { encodeGrpcMessage } from "./grpc-status.ts";
import { encodeTrailerFrame } from "./trailer-frame.ts";

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

export class WebResponse {
  private readonly res: RawResponse;
  private readonly options: WebResponseOptions;
  headersSent = false;
  finished = false;
  bytesOut = 0;
  /** The grpc-status the browser got (or will get), once known. */
  grpcStatus: number | undefined;

  constructor(res: RawResponse, options: WebResponseOptions) {
    this.res = res;
    this.options = options;
  }

  /** Sends the response headers with the upstream's metadata. */
  sendHeaders(metadata: OutgoingHttpHeaders): void {
    if (this.headersSent || this.finished) return;
    this.headersSent = true;
    (this.res as ServerResponse).writeHead(200, {
      ...this.options.baseHeaders,
      ...metadata,
      "content-type": this.options.contentType,
    });
  }

  /** Relays message bytes; false means the browser is slow (backpressure). */
  write(chunk: Uint8Array): boolean {
    if (this.finished) return true;
    const out = this.options.text ? encodeBase64Chunk(chunk) : chunk;
    this.bytesOut += out.length;
    return (this.res as ServerResponse).write(out);
  }

  /** Called once when the browser's connection or stream closes. */
  onClose(listener: () => void): void {
    this.res.once("close", listener);
  }

  /** Called when the browser has taken what was written (backpressure). */
  onDrain(listener: () => void): void {
    this.res.on("drain", listener);
  }

  /** Ends with a trailer frame (after headers) or trailers-only (before). */
  end(trailers: OutgoingHttpHeaders): void {
    if (this.finished) return;
    this.grpcStatus = Number(trailers["grpc-status"]);
    if (!this.headersSent) {
      this.finished = true;
      this.headersSent = true;
      (this.res as ServerResponse).writeHead(200, {
        ...this.options.baseHeaders,
        ...trailers,
        "content-type": this.options.contentType,
        "content-length": "0",
      });
      this.res.end();
      return;
    }
    this.finished = true;
    const frame = encodeTrailerFrame(trailers);
    const out = this.options.text ? encodeBase64Chunk(frame) : frame;
    this.bytesOut += out.length;
    (this.res as ServerResponse).end(out);
  }

  /** Ends with a gateway-made error status. */
  fail(err: GatewayError): void {
    this.end(errorTrailers(err));
  }
}
