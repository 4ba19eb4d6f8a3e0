/**
 * The whole demo stack, started in one process: dev PKI, the example
 * upstream (connect-node, mTLS), the gateway, and the demo page.
 */

import { type DevPki, ensureDevPki, startConnectUpstream } from "@grpc-edge/example-upstream";
import { createGateway, validateConfig } from "@grpc-edge/gateway";
import { startWebServer } from "./web-server.ts";

export interface DemoOptions {
  readonly pkiDir: string;
  readonly host: string;
  readonly ports: { readonly upstream: number; readonly gateway: number; readonly web: number };
  readonly logLevel: string;
}

export interface Demo {
  readonly pki: DevPki;
  readonly upstreamUrl: string;
  readonly gatewayUrl: string;
  readonly webUrl: string;
  close(): Promise<void>;
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const { host, ports } = options;
  const pki = await ensureDevPki({ dir: options.pkiDir });
  const upstream = await startConnectUpstream({ tls: pki, host, port: ports.upstream });
  const webOrigin = `http://localhost:${ports.web}`;
  const gateway = await createGateway(
    validateConfig(
      {
        listen: { host, port: ports.gateway },
        cors: {
          allowedOrigins: [webOrigin, `http://127.0.0.1:${ports.web}`],
          // The page sends these to show what reaches the upstream: x-demo-note
          // passes through, a spoofed x-auth-subject is always dropped.
          allowedHeaders: ["x-demo-note", "x-auth-subject"],
        },
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
        log: { level: options.logLevel },
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
  return {
    pki,
    upstreamUrl: upstream.url,
    gatewayUrl,
    webUrl: web.url,
    async close() {
      await web.close();
      await gateway.close();
      await upstream.close();
    },
  };
}
