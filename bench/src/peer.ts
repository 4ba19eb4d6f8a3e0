/**
 * The peer: @grpc-web/proxy (a Node gRPC-Web proxy on npm), pointed at the
 * same upstream over HTTP/2 with the same client certificate. It opens a new
 * HTTP/2 connection per call (its design); the tables show what that costs.
 */
import { readFileSync } from "node:fs";
import { connect } from "node:http2";
import type { AddressInfo } from "node:net";
import proxy from "@grpc-web/proxy";

const [upstreamUrl, caFile, certFile, keyFile] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const tls = {
  ca: readFileSync(caFile),
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  servername: "localhost",
};
const server = proxy({ target: () => connect(upstreamUrl, tls), origin: "*", headers: [] }).listen(
  0,
  "127.0.0.1",
  () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  },
);
