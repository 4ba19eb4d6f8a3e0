/**
 * A development OpenID provider (panva/oidc-provider) on 127.0.0.1: public
 * SPA clients with authorization code + PKCE, JWT access tokens (RFC 9068)
 * for one API audience (RFC 8707 resource indicator), rotating refresh
 * tokens, users with different scopes, and its own login page. For the demo
 * and the browser tests; not for production (keys and state live in memory).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createMemoryAdapter } from "./memory-adapter.ts";
import { type LoginPageUser, loginPage, logoutPage, messagePage } from "./pages.ts";
import type { Interaction, OidcProvider, ProviderConstructor } from "./provider-types.ts";

export interface DevUser extends LoginPageUser {
  /** Shown as `name`; the `sub` is the username. */
  readonly name: string;
}

export interface DevClient {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
}

export interface DevIdpOptions {
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  readonly clients: readonly DevClient[];
  readonly users?: readonly DevUser[];
  /** The API's resource indicator: the access tokens' `aud`. */
  readonly resource?: string;
  readonly accessTokenTtlSeconds?: number;
  readonly refreshTokenTtlSeconds?: number;
}

/** What the provider has answered at its token endpoint, by grant type. */
export interface TokenStats {
  readonly issued: Record<string, number>;
  readonly refused: Record<string, number>;
}

export interface DevIdp {
  readonly issuer: string;
  readonly resource: string;
  readonly users: readonly DevUser[];
  readonly stats: TokenStats;
  close(): Promise<void>;
}

export const defaultResource = "api://notes";

export const demoUsers: readonly DevUser[] = [
  {
    username: "alice",
    password: "alice",
    name: "Alice (editor)",
    scopes: ["notes:read", "notes:write", "notes:delete"],
  },
  { username: "bob", password: "bob", name: "Bob (reader)", scopes: ["notes:read", "notes:write"] },
];

// oidc-provider ships no type declarations; importing through a variable
// keeps the compiler from requiring them (the shape used is in provider-types.ts).
const providerModule = "oidc-provider";

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > 16_384) req.destroy(new Error("form too large"));
    });
    req.on("end", () => resolve(new URLSearchParams(body)));
    req.on("error", reject);
  });
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(body);
}

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const { default: Provider } = (await import(providerModule)) as { default: ProviderConstructor };
  const users = options.users ?? demoUsers;
  const resource = options.resource ?? defaultResource;
  const apiScopes = [...new Set(users.flatMap((u) => u.scopes))];
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 60;
  const stats: TokenStats = { issued: {}, refused: {} };
  let provider: OidcProvider | undefined;

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (path.startsWith("/interaction/") && provider !== undefined) {
      interaction(provider, req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          html(
            res,
            400,
            messagePage("Sign-in failed", err instanceof Error ? err.message : String(err)),
          );
        }
      });
      return;
    }
    provider?.callback()(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${options.host ?? "127.0.0.1"}:${port}`;

  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signingKey = {
    ...privateKey.export({ format: "jwk" }),
    kid: `dev-${randomBytes(4).toString("hex")}`,
    alg: "ES256",
    use: "sig",
  };
  const userByName = new Map(users.map((u) => [u.username, u]));

  provider = new Provider(issuer, {
    adapter: createMemoryAdapter(),
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      token_endpoint_auth_method: "none",
      application_type: "web",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [...c.redirectUris],
      post_logout_redirect_uris: [...(c.postLogoutRedirectUris ?? [])],
      id_token_signed_response_alg: "ES256",
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    scopes: ["openid", "offline_access", "profile", ...apiScopes],
    claims: { profile: ["name", "preferred_username"] },
    pkce: { required: () => true },
    // Refresh tokens for every client allowed the grant, as most providers do;
    // oidc-provider's default also wants offline_access, which OIDC Core §11
    // honours only with prompt=consent.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed("refresh_token"),
    async findAccount(_ctx: unknown, sub: string) {
      const user = userByName.get(sub);
      if (user === undefined) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, name: user.name, preferred_username: user.username }),
      };
    },
    // The SPA calls the token endpoint cross-origin: allow its own origins.
    clientBasedCORS: (_ctx: unknown, origin: string, client: { redirectUris: string[] }) =>
      client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin),
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 86_400,
      Grant: 86_400,
      RefreshToken: options.refreshTokenTtlSeconds ?? 86_400,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: async () => true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: { body: string }, form: string) => {
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: async (ctx: { body: string }) => {
          ctx.body = messagePage("Signed out", "You have signed out of the grpc-edge dev IdP.");
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
          return {
            scope: apiScopes.join(" "),
            audience: resource,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: "ES256" } },
          };
        },
      },
    },
    renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = "html";
      ctx.body = messagePage(
        "Sign-in error",
        `${out.error ?? "error"}: ${out.error_description ?? ""}`,
      );
    },
  });
  provider.proxy = false;
  provider.on("grant.success", (ctx) => {
    const type = String(ctx.oidc.params?.grant_type);
    stats.issued[type] = (stats.issued[type] ?? 0) + 1;
  });
  provider.on("grant.error", (ctx, err) => {
    const key = `${ctx.oidc.params?.grant_type}:${err.error ?? "error"}`;
    stats.refused[key] = (stats.refused[key] ?? 0) + 1;
  });

  /** The login form, then consent granted at once with what the user may have. */
  async function interaction(op: OidcProvider, req: IncomingMessage, res: ServerResponse) {
    const details: Interaction = await op.interactionDetails(req, res);
    const action = `/interaction/${details.uid}`;
    const clientId = String(details.params.client_id);
    if (details.prompt.name === "login") {
      if (req.method !== "POST") {
        html(res, 200, loginPage({ action, clientId, users }));
        return;
      }
      const form = await readForm(req);
      const username = form.get("username") ?? "";
      const user = userByName.get(username);
      if (user === undefined || user.password !== form.get("password")) {
        html(
          res,
          401,
          loginPage({ action, clientId, users, username, error: "Wrong username or password." }),
        );
        return;
      }
      await op.interactionFinished(
        req,
        res,
        { login: { accountId: user.username } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    // consent: grant the requested scopes this user has, reject the others
    // (a rejected scope is left out of the token instead of prompting again).
    const accountId = String(details.session?.accountId);
    const allowed = new Set(userByName.get(accountId)?.scopes ?? []);
    const grant = details.grantId
      ? await op.Grant.find(details.grantId)
      : new op.Grant({ accountId, clientId });
    const missing = details.prompt.details;
    const oidcScopes = missing.missingOIDCScope ?? [];
    const mayHave = (scope: string) => allowed.has(scope) || !apiScopes.includes(scope);
    if (oidcScopes.some(mayHave)) grant.addOIDCScope(oidcScopes.filter(mayHave).join(" "));
    const refusedOidc = oidcScopes.filter((s) => !mayHave(s));
    if (refusedOidc.length > 0) grant.rejectOIDCScope(refusedOidc.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      const granted = scopes.filter((s) => allowed.has(s));
      const refused = scopes.filter((s) => !allowed.has(s));
      grant.addResourceScope(indicator, granted.join(" "));
      if (refused.length > 0) grant.rejectResourceScope(indicator, refused.join(" "));
    }
    const grantId = await grant.save();
    await op.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }

  return {
    issuer,
    resource,
    users,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
