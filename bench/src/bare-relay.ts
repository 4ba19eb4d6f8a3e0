/**
 * A reference floor, not a product: the least a Node process can do to turn
 * one gRPC-Web HTTP/1.1 request into an HTTP/2 + mTLS call and back (one
 * shared session, body buffered, status copied into a trailer frame). No
 * CORS, auth, limits, metrics, logs, timeouts or error handling. Its CPU
 * per call is what Node's http and http2 modules cost by themselves; the
 * gateway's figure minus this one is what the gateway's own work costs.
 * Usage: bare-relay.ts <upstream url> <ca> <client cert> <client key>
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:http2";
import type { AddressInfo } from "node:net";

const [upstreamUrl, caFile, certFile, keyFile] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const session = connect(upstreamUrl, {
  ca: readFileSync(caFile),
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  servername: "localhost",
});
const server = createServer((req, res) => {
  const stream = session.request({
    ":method": "POST",
    ":path": req.url ?? "/",
    "content-type": "application/grpc",
    te: "trailers",
  });
  req.pipe(stream);
  const chunks: Buffer[] = [];
  let status = "2";
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("trailers", (t) => {
    status = String(t["grpc-status"]);
  });
  stream.on("end", () => {
    const trailer = Buffer.from(`grpc-status:${status}\r\n`);
    const prefix = Buffer.alloc(5);
    prefix[0] = 0x80;
    prefix.writeUInt32BE(trailer.length, 1);
    const body = Buffer.concat([...chunks, prefix, trailer]);
    res.writeHead(200, {
      "content-type": "application/grpc-web+proto",
      "content-length": body.length,
    });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
