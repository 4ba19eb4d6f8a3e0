/**
 * The whole demo, started in one process: the dev PKI, the example upstream
 * (connect-node, mTLS), the development OpenID provider (or your own), the
 * gateway with a policy, and the page built on @grpc-edge/web-client.
 */
import { type DevIdp, demoUsers, startDevIdp } from "@grpc-edge/dev-idp";
import { type DevPki, ensureDevPki, startConnectUpstream } from "@grpc-edge/example-upstream";
import { createGateway, validateConfig } from "@grpc-edge/gateway";
import { demoGatewayConfig, demoScope } from "./demo-config.ts";
import { type PageConfig, startWebServer } from "./web-server.ts";

export type DemoPart = "web" | "gateway" | "idp" | "upstream";

/** Your own OpenID provider instead of the embedded one. */
export interface ExternalProvider {
  readonly issuer: string;
  readonly clientId: string;
  /** The API audience the gateway requires. */
  readonly audience: string;
  readonly scope?: string;
  /** How the page asks for the audience: `resource` (RFC 8707, default) or e.g. `audience` (Auth0). */
  readonly audienceParam?: string;
}

export interface DemoOptions {
  readonly pkiDir: string;
  readonly host: string;
  readonly ports: Readonly<Record<DemoPart, number>>;
  readonly logLevel: string;
  /** Access token lifetime at the embedded provider (short, so refreshes show). */
  readonly accessTokenTtlSeconds?: number;
  readonly provider?: ExternalProvider;
  /** DPoP-bound tokens with a proof per call (the gateway requires them). */
  readonly dpop?: boolean;
}

export interface Demo {
  readonly pki: DevPki;
  readonly webUrl: string;
  readonly gatewayUrl: string;
  readonly upstreamUrl: string;
  readonly issuer: string;
  /** The embedded provider's users (none with your own provider). */
  readonly users: DevIdp["users"];
  close(): Promise<void>;
}

/** A part could not listen because its port is taken. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  readonly part: DemoPart;
  readonly port: number;
  constructor(part: DemoPart, port: number) {
    super(`port ${port} (${part}) is already in use`);
    this.part = part;
    this.port = port;
  }
}

/** Starts `part`, turning "address in use" into a PortInUseError. */
async function listening<T>(part: DemoPart, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if ((err as { code?: unknown }).code === "EADDRINUSE") throw new PortInUseError(part, port);
    throw err;
  }
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const { host, ports } = options;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closeOne of closers.splice(0).reverse()) await closeOne();
  };
  try {
    const pki = await ensureDevPki({ dir: options.pkiDir });
    const upstream = await listening("upstream", ports.upstream, () =>
      startConnectUpstream({ tls: pki, host, port: ports.upstream }),
    );
    closers.push(() => upstream.close());

    // The page's origin is fixed before anything else starts, for the
    // provider's redirect URIs and the gateway's CORS.
    const web = await listening("web", ports.web, () => startWebServer({ host, port: ports.web }));
    closers.push(() => web.close());

    let provider: ExternalProvider;
    let users: DevIdp["users"] = [];
    if (options.provider) {
      provider = options.provider;
    } else {
      const idp = await listening("idp", ports.idp, () =>
        startDevIdp({
          host,
          port: ports.idp,
          clients: [
            {
              clientId: "notes-web",
              redirectUris: [`${web.url}/callback`],
              postLogoutRedirectUris: [`${web.url}/signed-out`],
            },
          ],
          users: demoUsers,
          accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 60,
        }),
      );
      closers.push(() => idp.close());
      provider = { issuer: idp.issuer, clientId: "notes-web", audience: idp.resource };
      users = idp.users;
    }

    const gateway = await createGateway(
      validateConfig(
        demoGatewayConfig({
          host,
          port: ports.gateway,
          webOrigins: [web.url],
          upstreamUrl: upstream.url,
          pki,
          issuer: provider.issuer,
          audience: provider.audience,
          logLevel: options.logLevel,
          dpop: options.dpop ?? false,
        }),
        process.cwd(),
      ),
    );
    closers.push(() => gateway.close());
    const { port: gatewayPort } = await listening("gateway", ports.gateway, () => gateway.listen());
    const gatewayUrl = `http://localhost:${gatewayPort}`;

    const page: PageConfig = {
      gatewayUrl,
      issuer: provider.issuer,
      clientId: provider.clientId,
      scope: provider.scope ?? demoScope,
      audience: provider.audience,
      audienceParam: provider.audienceParam ?? "resource",
      dpop: options.dpop ?? false,
      users: users.map((u) => ({
        username: u.username,
        password: u.password,
        name: u.name,
        scopes: u.scopes,
      })),
    };
    await web.publish(page);
    return {
      pki,
      webUrl: web.url,
      gatewayUrl,
      upstreamUrl: upstream.url,
      issuer: provider.issuer,
      users,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
