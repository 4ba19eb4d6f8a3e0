/**
 * The benchmark's upstream: a minimal HTTP/2 + mTLS gRPC server standing in
 * for a fast (Go-class) service, so that the gateway, not the upstream, is
 * what the load measures. /Echo returns the request message; /Download
 * streams chunk_count messages of chunk_bytes, honouring flow control.
 * Run as a child process; it reports its port over IPC.
 */
import { readFileSync } from "node:fs";
import { createSecureServer, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { fromBinary } from "@bufbuild/protobuf";
import { DownloadRequestSchema } from "@grpc-edge/proto/demo/notes/v1/notes";

const [caFile, certFile, keyFile] = process.argv.slice(2) as [string, string, string];

function reply(stream: ServerHttp2Stream, body: Buffer): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(body);
}

function download(stream: ServerHttp2Stream, request: Buffer): void {
  const { chunkCount, chunkBytes } = fromBinary(DownloadRequestSchema, request.subarray(5));
  // One pre-encoded DownloadResponse { data = chunkBytes bytes }: field 2, length-delimited.
  const data = Buffer.alloc(chunkBytes, 0x61);
  const lengthVarint: number[] = [];
  for (let n = chunkBytes; ; n >>>= 7) {
    if (n < 0x80) {
      lengthVarint.push(n);
      break;
    }
    lengthVarint.push((n & 0x7f) | 0x80);
  }
  const message = Buffer.concat([Buffer.from([0x12, ...lengthVarint]), data]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  let sent = 0;
  const pump = () => {
    while (sent < chunkCount) {
      sent++;
      if (!stream.write(frame)) {
        stream.once("drain", pump);
        return;
      }
    }
    stream.end();
  };
  pump();
}

const server = createSecureServer({
  ca: readFileSync(caFile),
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  requestCert: true,
  rejectUnauthorized: true,
  settings: { maxConcurrentStreams: 20_000 },
});
server.on("stream", (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("error", () => {});
  stream.on("end", () => {
    // The caller may have reset the call meanwhile (a load generator closing
    // its connections at the end of a run makes the gateway cancel them).
    if (stream.destroyed) return;
    const body = Buffer.concat(chunks);
    const path = String(headers[":path"]);
    if (path.endsWith("/Download")) download(stream, body);
    else if (path.endsWith("/WatchNotes"))
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
    else reply(stream, body);
  });
});
server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
