/**
 * `npm run demo`: the whole stack on one machine, on 127.0.0.1 —
 * dev PKI (.dev-pki/), the example upstream (connect-node, mTLS, :9443),
 * the gateway (:8080) and the demo page (http://localhost:5173).
 * Ports can be moved with DEMO_UPSTREAM_PORT, DEMO_GATEWAY_PORT, DEMO_WEB_PORT.
 */

import { defaultDevPkiDir, ensureDevPki, startConnectUpstream } from "@grpc-edge/example-upstream";
import { createGateway, validateConfig } from "@grpc-edge/gateway";
import { startWebServer } from "./web-server.ts";

const host = "127.0.0.1";
const ports = {
  upstream: Number(process.env.DEMO_UPSTREAM_PORT ?? 9443),
  gateway: Number(process.env.DEMO_GATEWAY_PORT ?? 8080),
  web: Number(process.env.DEMO_WEB_PORT ?? 5173),
};

const pki = await ensureDevPki({ dir: defaultDevPkiDir });
const upstream = await startConnectUpstream({ tls: pki, host, port: ports.upstream });
const webOrigin = `http://localhost:${ports.web}`;
const gateway = await createGateway(
  validateConfig(
    {
      listen: { host, port: ports.gateway },
      cors: { allowedOrigins: [webOrigin, `http://127.0.0.1:${ports.web}`] },
      upstreams: [
        {
          name: "notes",
          address: upstream.url,
          services: ["demo.notes.v1.NotesService", "grpc.health.v1.Health"],
          tls: {
            caFile: pki.caFile,
            certFile: pki.clientCertFile,
            keyFile: pki.clientKeyFile,
            serverName: "localhost",
          },
        },
      ],
      log: { level: process.env.DEMO_LOG_LEVEL ?? "info" },
    },
    process.cwd(),
  ),
);
const { url: gatewayUrl } = await gateway.listen();
const web = await startWebServer({
  host,
  port: ports.web,
  gatewayUrl: gatewayUrl.replace("127.0.0.1", "localhost"),
});

process.stdout.write(`
grpc-edge demo is running (Ctrl-C to stop):
  web page   ${web.url}
  gateway    ${gatewayUrl}   (gRPC-Web; /healthz, /readyz, /metrics)
  upstream   ${upstream.url}  (gRPC over HTTP/2, mTLS with ${pki.caFile})
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await web.close();
  await gateway.close();
  await upstream.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
