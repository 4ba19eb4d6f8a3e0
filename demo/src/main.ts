/**
 * `npm run demo`: the whole stack on one machine, on 127.0.0.1 — dev PKI
 * (.dev-pki/), the example upstream (connect-node, mTLS, :9443), the gateway
 * (:8080) and the demo page (http://localhost:5173). Ports can be moved with
 * DEMO_UPSTREAM_PORT, DEMO_GATEWAY_PORT and DEMO_WEB_PORT.
 */
import { defaultDevPkiDir } from "@grpc-edge/example-upstream";
import { startDemo } from "./demo.ts";

const demo = await startDemo({
  pkiDir: defaultDevPkiDir,
  host: "127.0.0.1",
  ports: {
    upstream: Number(process.env.DEMO_UPSTREAM_PORT ?? 9443),
    gateway: Number(process.env.DEMO_GATEWAY_PORT ?? 8080),
    web: Number(process.env.DEMO_WEB_PORT ?? 5173),
  },
  logLevel: process.env.DEMO_LOG_LEVEL ?? "info",
});

process.stdout.write(`
grpc-edge demo is running (Ctrl-C to stop):
  web page   ${demo.webUrl}
  gateway    ${demo.gatewayUrl}   (gRPC-Web; /healthz, /readyz, /metrics)
  upstream   ${demo.upstreamUrl}  (gRPC over HTTP/2, mTLS with ${demo.pki.caFile})
`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  demo.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
