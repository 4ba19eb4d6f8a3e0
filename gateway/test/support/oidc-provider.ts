/**
 * A real OpenID provider (panva/oidc-provider) on 127.0.0.1 for tests: JWT
 * access tokens for a resource indicator audience (RFC 8707), an ES256 and an
 * RS256 key in its JWKS, a client_credentials client to mint tokens, key
 * rotation on the same port, and a count of JWKS fetches so tests can assert
 * the gateway's refetch cooldown.
 *
 * One node:http server owns the port; requests go to the current Provider
 * instance. Rotating keys swaps that instance, so the issuer URL and port stay
 * the same (no race for a freed port).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export type TestAlg = "ES256" | "RS256";

export interface OidcProviderOptions {
  /** Resource indicator = the token's `aud`. Default `api://notes`. */
  readonly resource?: string;
  /** Access token lifetime. Default 60 s (short on purpose). */
  readonly accessTokenTtlSeconds?: number;
}

export interface MintOptions {
  readonly scope: string;
  readonly resource?: string;
  readonly alg?: TestAlg;
  readonly ttlSeconds?: number;
  /** Binds the token to this key (RFC 9449): a DPoP proof goes to the token endpoint. */
  readonly dpopKey?: { readonly privateKey: CryptoKey; readonly publicJwk: JWK };
}

/** One of the provider's current signing keys, for tests that craft tokens. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: TestAlg;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface TestOidcProvider {
  readonly issuer: string;
  readonly port: number;
  readonly resource: string;
  mintAccessToken(options: MintOptions): Promise<string>;
  /** Replaces both keys with new ones (new kids); old tokens stop verifying. */
  rotateKeys(): Promise<void>;
  signingKey(alg: TestAlg): SigningKey;
  /** GET /jwks requests received, answered or not (see setAvailable). */
  jwksFetchCount(): number;
  /** Every request received (discovery, JWKS, token), answered or not. */
  requestCount(): number;
  /** While false, every request (discovery, JWKS, token) gets 503. */
  setAvailable(available: boolean): void;
  close(): Promise<void>;
}

export const CLIENT_ID = "gateway-tests";
/** Scopes the client may ask for. */
export const SCOPES = ["notes:read", "notes:write", "notes:admin"];
const CLIENT_SECRET = "gateway-tests-secret-0123456789abcdef";
const JWKS_PATH = "/jwks";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type ProviderConstructor = new (issuer: string, config: object) => { callback(): Handler };

// oidc-provider ships no type declarations; importing through a variable
// keeps the compiler from requiring them (the shape used is declared above).
const providerModule = "oidc-provider";

/**
 * oidc-provider's storage interface, storing nothing: JWT access tokens from
 * client_credentials are self-contained. (Silences the dev-adapter warning.)
 */
class NoStorageAdapter {
  upsert = async () => {};
  find = async () => undefined;
  findByUid = async () => undefined;
  findByUserCode = async () => undefined;
  consume = async () => {};
  destroy = async () => {};
  revokeByGrantId = async () => {};
}

type KeyPair = SigningKey & { readonly privateJwk: JWK };

async function newKeys(): Promise<KeyPair[]> {
  let n = 0;
  const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return Promise.all(
    (["ES256", "RS256"] as const).map(async (alg) => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `${alg.toLowerCase()}-${stamp}-${n++}`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
      const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: "sig" };
      return { kid, alg, privateKey, publicJwk, privateJwk };
    }),
  );
}

export async function startOidcProvider(
  options: OidcProviderOptions = {},
): Promise<TestOidcProvider> {
  const { default: Provider } = (await import(providerModule)) as { default: ProviderConstructor };
  const resource = options.resource ?? "api://notes";
  const scopes = SCOPES;
  const next = { alg: "ES256" as TestAlg, ttl: options.accessTokenTtlSeconds ?? 60 };
  let keys = await newKeys();
  let handler: Handler = () => {};
  let jwksFetches = 0;
  let requests = 0;
  let available = true;

  const server = createServer((req, res) => {
    requests++;
    if (req.method === "GET" && req.url?.split("?")[0] === JWKS_PATH) jwksFetches++;
    if (!available) {
      res.writeHead(503).end();
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const build = (): Handler => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: "client_secret_post",
          scope: scopes.join(" "),
        },
      ],
      scopes: ["openid", ...scopes],
      adapter: NoStorageAdapter,
      ttl: { ClientCredentials: () => next.ttl },
      jwks: { keys: keys.map((k) => k.privateJwk) },
      routes: { jwks: JWKS_PATH },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => ({
            scope: scopes.join(" "),
            audience: indicator,
            accessTokenTTL: next.ttl,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: next.alg } },
          }),
        },
      },
    });
    return provider.callback();
  };
  handler = build();

  // Minting is serialised: the alg and lifetime of the next token are state.
  let queue: Promise<unknown> = Promise.resolve();
  const mint = async (m: MintOptions): Promise<string> => {
    next.alg = m.alg ?? "ES256";
    next.ttl = m.ttlSeconds ?? options.accessTokenTtlSeconds ?? 60;
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope: m.scope,
      resource: m.resource ?? resource,
    });
    const headers: Record<string, string> = {};
    if (m.dpopKey !== undefined) {
      headers.dpop = await new SignJWT({
        jti: crypto.randomUUID(),
        htm: "POST",
        htu: `${issuer}/token`,
        iat: Math.floor(Date.now() / 1000),
      })
        .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: m.dpopKey.publicJwk })
        .sign(m.dpopKey.privateKey);
    }
    const res = await fetch(`${issuer}/token`, { method: "POST", body, headers });
    const json = (await res.json()) as Record<string, string | undefined>;
    if (res.status !== 200 || json.access_token === undefined) {
      throw new Error(`token endpoint: ${res.status} ${json.error} ${json.error_description}`);
    }
    return json.access_token;
  };

  return {
    issuer,
    port,
    resource,
    mintAccessToken(m) {
      const result = queue.then(() => mint(m));
      queue = result.catch(() => undefined);
      return result;
    },
    async rotateKeys() {
      keys = await newKeys();
      handler = build();
    },
    signingKey(alg) {
      const { privateJwk: _, ...key } = keys.find((k) => k.alg === alg) as KeyPair;
      return key;
    },
    jwksFetchCount: () => jwksFetches,
    requestCount: () => requests,
    setAvailable(value) {
      available = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
