/**
 * Everything a browser test calls through, on 127.0.0.1: the dev PKI (in a
 * temp folder), the example upstream over mTLS (connect-node), the dev
 * OpenID provider, and a gateway that verifies its tokens with the demo's
 * policy (health public, notes authenticated, DeleteNote needs notes:delete).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DevIdp, startDevIdp } from "@grpc-edge/dev-idp";
import {
  type DevPki,
  ensureDevPki,
  type RunningUpstream,
  startConnectUpstream,
} from "@grpc-edge/example-upstream";
import { createGateway, type Gateway, validateConfig } from "@grpc-edge/gateway";
import pino from "pino";

export const NOTES = "demo.notes.v1.NotesService";

export interface BrowserStackOptions {
  /** Page origins: the SPA client's redirect URIs and the gateway's CORS. */
  readonly pageOrigins: readonly string[];
  readonly clientId?: string;
  readonly accessTokenTtlSeconds?: number;
  /** Merged into the gateway's `auth` section (e.g. clockToleranceSeconds). */
  readonly auth?: Record<string, unknown>;
}

export interface BrowserStack {
  readonly pki: DevPki;
  readonly upstream: RunningUpstream;
  readonly idp: DevIdp;
  readonly gateway: Gateway;
  /** The gateway's URL as pages use it (http://localhost:<port>). */
  readonly gatewayUrl: string;
  readonly clientId: string;
  close(): Promise<void>;
}

export async function startBrowserStack(options: BrowserStackOptions): Promise<BrowserStack> {
  const clientId = options.clientId ?? "notes-web";
  const pki = await ensureDevPki({
    dir: mkdtempSync(join(tmpdir(), "grpc-edge-pki-")),
    log: () => {},
  });
  const upstream = await startConnectUpstream({ tls: pki, port: 0 });
  const idp = await startDevIdp({
    clients: [
      {
        clientId,
        redirectUris: options.pageOrigins.map((o) => `${o}/callback`),
        postLogoutRedirectUris: options.pageOrigins.map((o) => `${o}/signed-out`),
      },
    ],
    ...(options.accessTokenTtlSeconds === undefined
      ? {}
      : { accessTokenTtlSeconds: options.accessTokenTtlSeconds }),
  });
  const config = validateConfig(
    {
      listen: { host: "127.0.0.1", port: 0 },
      cors: { allowedOrigins: [...options.pageOrigins] },
      upstreams: [
        {
          name: "notes",
          address: upstream.url,
          services: [NOTES, "grpc.health.v1.Health"],
          tls: {
            caFile: pki.caFile,
            certFile: pki.clientCertFile,
            keyFile: pki.clientKeyFile,
            serverName: "localhost",
          },
        },
      ],
      auth: {
        issuers: [{ issuer: idp.issuer, audiences: [idp.resource], tokenType: "at+jwt" }],
        defaultPolicy: "deny",
        rules: [
          { methods: ["/grpc.health.v1.Health/*"], policy: "public" },
          { methods: [`/${NOTES}/DeleteNote`], scopes: ["notes:delete"] },
          { methods: [`/${NOTES}/*`], policy: "authenticated" },
        ],
        ...options.auth,
      },
    },
    process.cwd(),
  );
  const gateway = await createGateway(config, { logger: pino({ level: "warn" }) });
  const { port } = await gateway.listen();
  return {
    pki,
    upstream,
    idp,
    gateway,
    gatewayUrl: `http://localhost:${port}`,
    clientId,
    async close() {
      await gateway.close();
      await idp.close();
      await upstream.close();
    },
  };
}
