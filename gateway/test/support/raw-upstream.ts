/**
 * A scriptable HTTP/2 + mTLS upstream for the protocol cases a correct gRPC
 * server never produces (trailers-only, missing grpc-status, non-gRPC
 * replies, resets) and for watching what the gateway does on the wire
 * (sessions opened, request headers, RST codes, backpressure).
 */
import {
  constants,
  createSecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";

export interface RawCall {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  /** Resolves with the whole request body (for small test requests). */
  body(): Promise<Buffer>;
}

export interface RawUpstream {
  readonly port: number;
  readonly url: string;
  /** Sessions accepted so far. */
  sessions(): number;
  /** Serial numbers of the client certificates presented, per session, in order. */
  readonly clientSerials: string[];
  /** Sends GOAWAY on every open session (as a server restarting would). */
  goAwayAll(): void;
  /** Headers of every call received. */
  readonly calls: IncomingHttpHeaders[];
  /** RST codes of streams the peer closed (e.g. NGHTTP2_CANCEL). */
  readonly closedWithCode: number[];
  close(): Promise<void>;
}

export interface RawUpstreamOptions {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly port?: number;
  readonly handle: (call: RawCall) => void;
}

/** A gRPC frame with the given payload. */
export function grpcFrame(payload: Uint8Array, flags = 0): Buffer {
  const f = Buffer.alloc(5 + payload.length);
  f[0] = flags;
  f.writeUInt32BE(payload.length, 1);
  f.set(payload, 5);
  return f;
}

/**
 * Sends gRPC response headers; trailers with grpc-status 0 follow once the
 * caller ends the stream (write messages in between).
 */
export function respondOk(stream: ServerHttp2Stream, trailers: Record<string, string> = {}): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", ...trailers }));
}

/** Answers like a gRPC server: 200, the body, then trailers with grpc-status 0. */
export function replyOk(
  stream: ServerHttp2Stream,
  body: Uint8Array,
  trailers: Record<string, string> = {},
): void {
  respondOk(stream, trailers);
  stream.end(body);
}

export async function startRawUpstream(options: RawUpstreamOptions): Promise<RawUpstream> {
  const sessionsSeen = new Set<Http2Session>();
  const calls: IncomingHttpHeaders[] = [];
  const closedWithCode: number[] = [];
  const server: Http2Server = createSecureServer({
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
  });
  const clientSerials: string[] = [];
  server.on("session", (session) => {
    sessionsSeen.add(session);
    const socket = session.socket as import("node:tls").TLSSocket;
    const record = () => clientSerials.push(socket.getPeerX509Certificate()?.serialNumber ?? "");
    if (socket.encrypted && socket.getPeerX509Certificate() !== undefined) record();
    else socket.once("secure", record);
  });
  server.on("stream", (stream, headers) => {
    calls.push(headers);
    stream.on("close", () => {
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR) closedWithCode.push(stream.rstCode);
    });
    stream.on("error", () => {});
    const body = () =>
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
      });
    options.handle({ stream, headers, body });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    sessions: () => sessionsSeen.size,
    clientSerials,
    goAwayAll() {
      for (const s of sessionsSeen) if (!s.closed) s.goaway(constants.NGHTTP2_NO_ERROR);
    },
    calls,
    closedWithCode,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessionsSeen) s.destroy();
        server.close(() => resolve());
      }),
  };
}
