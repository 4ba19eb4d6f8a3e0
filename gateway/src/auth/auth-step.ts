/**
 * Pipeline steps 4-5 (authenticate, authorize), composed:
 *
 *   policy decision ─ public ─────────────────────────────▶ no identity
 *                   ─ deny ───────────────────────────────▶ denied_by_policy (7)
 *                   ─ authenticated: bearer token ▶ cache ▶ verify ▶ scopes ▶ identity headers
 *
 * Public methods never look at the authorization header: no parsing, no
 * verification, no identity forwarded. Unlike Envoy's allow_missing_or_failed
 * a bad token there is neither rejected nor half-trusted; the upstream sees
 * an anonymous call. (Identity on a method means policy authenticated.)
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "pino";
import { GatewayError } from "../errors.ts";
import type { AuthConfig } from "./auth-config.ts";
import { extractBearerToken } from "./bearer-token.ts";
import { createKeysByIssuer, type IssuerKeys } from "./issuer-keys.ts";
import { compilePolicy } from "./policy.ts";
import { identityHeaders, missingScopes } from "./principal.ts";
import { createTokenCache } from "./token-cache.ts";
import { createTokenVerifier, type VerifiedToken } from "./token-verifier.ts";
import { insufficientScopeError } from "./www-authenticate.ts";

export interface CallInfo {
  /** "/pkg.Service/Method" */
  readonly path: string;
  readonly service: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
}

/** Counters for logs, metrics and tests. */
export interface AuthStats {
  /** Full verifications (signature + claims). */
  readonly verifications: number;
  /** Calls served by the verified-token cache or an in-flight verification of the same token. */
  readonly cacheHits: number;
  readonly cacheSize: number;
}

/** Metadata for the upstream; shared between calls (frozen), never to be modified. */
export type Metadata = Readonly<Record<string, string>>;

export interface AuthStep {
  /**
   * The whole decision in one pass: the metadata to add upstream (x-auth-*,
   * maybe authorization) at once for a public method or a verified token
   * (the connection's memo or the cache), a promise when the token must be
   * verified first. Throws (or rejects) with GatewayError.
   * `connection` (the browser's socket or HTTP/2 session) lets a keep-alive
   * connection that repeats its last verified authorization header skip
   * parsing and hashing it again; that header is remembered only while the
   * connection lives and the token has not expired.
   */
  authorize(call: CallInfo, connection?: object): Metadata | Promise<Metadata>;
  close(): void;
  stats(): AuthStats;
}

export interface AuthDeps {
  readonly log: Logger;
  /** Milliseconds since the epoch; injected time for tests. */
  readonly now?: () => number;
  /** Told of every JWKS fetch attempt, per issuer (metrics). */
  readonly onJwksFetch?: (issuer: string, ok: boolean) => void;
}

/** No metadata: public methods, and every call of a gateway without `auth`. */
export const NO_METADATA: Metadata = Object.freeze({});

interface CachedPrincipal {
  readonly token: VerifiedToken;
  /** Frozen: calls without forwardAuthorization get this very object. */
  readonly headers: Metadata;
}

/** A decision that waits on verifying `token`, then on the method's `scopes`. */
class PendingVerification {
  readonly token: string;
  readonly scopes: readonly string[];
  constructor(token: string, scopes: readonly string[]) {
    this.token = token;
    this.scopes = scopes;
  }
}

/** Every call allowed, without identity: a gateway without an `auth` section. */
const ALLOW_ALL: AuthStep = {
  authorize: () => NO_METADATA,
  close() {},
  stats: () => ({ verifications: 0, cacheHits: 0, cacheSize: 0 }),
};

/**
 * Compiles the policy and fetches each issuer's keys once. An IdP that is
 * down at start-up does not stop the gateway: a warning is logged and keys
 * are fetched when a call needs them. Without an `auth` section every
 * method is allowed, and start-up says so loudly.
 */
export async function createAuthStep(
  config: AuthConfig | undefined,
  deps: AuthDeps,
): Promise<AuthStep> {
  if (config === undefined) {
    deps.log.warn(
      "no `auth` section: every method is allowed without a token (configure auth before exposing this gateway)",
    );
    return ALLOW_ALL;
  }
  const now = deps.now ?? Date.now;
  const policy = compilePolicy(config.rules, config.defaultPolicy);
  const keys = createKeysByIssuer(config.issuers, {
    now,
    log: deps.log,
    ...(deps.onJwksFetch === undefined ? {} : { onFetch: deps.onJwksFetch }),
  });
  await Promise.all([...keys.values()].map((k) => k.refresh()));
  const verify = createTokenVerifier({
    issuers: config.issuers,
    keysFor: (issuer) => (keys.get(issuer) as IssuerKeys).getKey,
    clockToleranceSeconds: config.clockToleranceSeconds,
    now,
  });
  const cache = createTokenCache<CachedPrincipal>();
  // Per keep-alive connection, its last verified authorization header: a
  // string compare instead of parsing and hashing it on every call.
  let lastOnConnection = new WeakMap<
    object,
    { readonly header: string; readonly token: string; readonly principal: CachedPrincipal }
  >();
  let verifications = 0;
  let cacheHits = 0;

  // Concurrent calls with the same uncached token (a page load firing
  // several RPCs) share one verification instead of racing N of them.
  const inflight = new Map<string, Promise<CachedPrincipal>>();
  const verifyAndCache = async (token: string): Promise<CachedPrincipal> => {
    const verified = await verify(token);
    const principal = {
      token: verified,
      headers: Object.freeze(
        identityHeaders(verified.claims, verified.scopes, config.identityHeaders),
      ),
    };
    cache.set(token, principal, verified.expiresAtMs, now());
    return principal;
  };
  /** One verification per token at a time: concurrent calls share it. */
  const verifyShared = (token: string): Promise<CachedPrincipal> => {
    const shared = inflight.get(token);
    if (shared !== undefined) {
      cacheHits++;
      return shared;
    }
    verifications++;
    const pending = verifyAndCache(token).finally(() => inflight.delete(token));
    inflight.set(token, pending);
    return pending;
  };

  /**
   * The metadata for the upstream once the scopes suffice: the principal's
   * own headers, or a copy with `authorization` added per call (the cache
   * holds no usable credential).
   */
  const upstreamMetadata = (
    scopes: readonly string[],
    principal: CachedPrincipal,
    token: string,
  ): Metadata => {
    const missing = missingScopes(scopes, principal.token.scopes);
    if (missing.length > 0) throw insufficientScopeError(scopes, missing);
    return config.forwardAuthorization
      ? { ...principal.headers, authorization: `Bearer ${token}` }
      : principal.headers;
  };

  /**
   * The bearer token of this header and its verified principal if one is
   * known: the connection's memo first, then the cache. Throws for a
   * missing or malformed header.
   */
  const lookup = (
    header: string | string[] | undefined,
    connection: object | undefined,
  ): { readonly token: string; readonly principal: CachedPrincipal | undefined } => {
    const nowMs = now();
    const last = connection === undefined ? undefined : lastOnConnection.get(connection);
    if (last !== undefined && last.header === header && nowMs < last.principal.token.expiresAtMs)
      return last;
    const token = extractBearerToken(header, config.maxTokenBytes);
    const principal = cache.get(token, nowMs);
    if (principal !== undefined && connection !== undefined && typeof header === "string")
      lastOnConnection.set(connection, { header, token, principal });
    return { token, principal };
  };

  /** As far as the decision goes without verifying: the metadata, or the token still to verify. */
  const resolve = (
    call: CallInfo,
    connection: object | undefined,
  ): Metadata | PendingVerification => {
    const decision = policy.decide(call.path, call.service);
    if (decision.kind === "public") return NO_METADATA;
    if (decision.kind === "deny") {
      throw new GatewayError("denied_by_policy", `no rule allows ${call.path.slice(0, 200)}`);
    }
    const { token, principal } = lookup(call.headers.authorization, connection);
    if (principal === undefined) return new PendingVerification(token, decision.scopes);
    cacheHits++;
    return upstreamMetadata(decision.scopes, principal, token);
  };

  const authorize = (call: CallInfo, connection?: object): Metadata | Promise<Metadata> => {
    const resolved = resolve(call, connection);
    if (!(resolved instanceof PendingVerification)) return resolved;
    const { token, scopes } = resolved;
    return verifyShared(token).then((principal) => upstreamMetadata(scopes, principal, token));
  };

  return {
    authorize,
    close() {
      for (const k of keys.values()) k.close();
      cache.clear();
      lastOnConnection = new WeakMap();
    },
    stats: () => ({ verifications, cacheHits, cacheSize: cache.size }),
  };
}
