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
import { loadDescriptorSet } from "./descriptor-set.ts";
import { createIssuerKeys, type IssuerKeys } from "./issuer-keys.ts";
import { checkRulesAgainstDescriptors, compilePolicy } from "./policy.ts";
import { identityHeaders, missingScopes } from "./principal.ts";
import { createTokenCache } from "./token-cache.ts";
import { createTokenVerifier, type VerifiedToken } from "./token-verifier.ts";
import { insufficientScopeError } from "./www-authenticate.ts";

export { type AuthConfig, type IssuerConfig, parseAuthConfig } from "./auth-config.ts";
export { loadDescriptorSet } from "./descriptor-set.ts";
export type { Decision, DescriptorIndex, PolicyName, RuleConfig } from "./policy.ts";

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

export interface AuthStep {
  /** Resolves with the metadata to add upstream (x-auth-*, maybe authorization); rejects with GatewayError. */
  check(call: CallInfo): Promise<Record<string, string>>;
  /**
   * The same decision without a promise, when it needs no verification: a
   * public method, or a token in the verified-token cache whose scopes
   * suffice. Undefined otherwise (then call check). Never throws.
   * `connection` (the browser's socket or HTTP/2 session) lets a keep-alive
   * connection that repeats its last verified authorization header skip
   * parsing and hashing it again; that header is remembered only while the
   * connection lives and the token has not expired.
   */
  checkCached(call: CallInfo, connection?: object): Record<string, string> | undefined;
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

interface CachedPrincipal {
  readonly token: VerifiedToken;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Compiles the policy, checks rules against the descriptor set, and fetches
 * each issuer's keys once. An IdP that is down at start-up does not stop
 * the gateway: a warning is logged and keys are fetched when a call needs them.
 */
export async function createAuthStep(config: AuthConfig, deps: AuthDeps): Promise<AuthStep> {
  const now = deps.now ?? Date.now;
  const policy = compilePolicy(config.rules, config.defaultPolicy);
  if (config.descriptorSet !== undefined) {
    checkRulesAgainstDescriptors(config.rules, loadDescriptorSet(config.descriptorSet));
  }
  const keys = new Map<string, IssuerKeys>(
    config.issuers.map((i) => [
      i.issuer,
      createIssuerKeys({
        issuer: i.issuer,
        jwksUri: i.jwksUri,
        now,
        log: deps.log,
        ...(deps.onJwksFetch === undefined ? {} : { onFetch: deps.onJwksFetch }),
      }),
    ]),
  );
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
      headers: identityHeaders(verified.claims, verified.scopes),
    };
    cache.set(token, principal, verified.expiresAtMs, now());
    return principal;
  };
  const principalFor = (token: string): Promise<CachedPrincipal> => {
    const cached = cache.get(token, now());
    const shared = cached === undefined ? inflight.get(token) : undefined;
    if (cached !== undefined || shared !== undefined) {
      cacheHits++;
      return shared ?? Promise.resolve(cached as CachedPrincipal);
    }
    verifications++;
    const pending = verifyAndCache(token).finally(() => inflight.delete(token));
    inflight.set(token, pending);
    return pending;
  };

  // Added per call, not cached: the cache holds no usable credential.
  const upstreamMetadata = (principal: CachedPrincipal, token: string) =>
    config.forwardAuthorization
      ? { ...principal.headers, authorization: `Bearer ${token}` }
      : { ...principal.headers };

  /** A verified principal for this header without verifying: the connection's memo, then the cache. */
  const cachedPrincipal = (
    header: string | string[] | undefined,
    connection: object | undefined,
  ): { readonly token: string; readonly principal: CachedPrincipal } | undefined => {
    const nowMs = now();
    const last = connection === undefined ? undefined : lastOnConnection.get(connection);
    if (last !== undefined && last.header === header && nowMs < last.principal.token.expiresAtMs)
      return last;
    let token: string;
    try {
      token = extractBearerToken(header, config.maxTokenBytes);
    } catch {
      return undefined; // check() names the reason
    }
    const principal = cache.get(token, nowMs);
    if (principal === undefined) return undefined;
    if (connection !== undefined && typeof header === "string")
      lastOnConnection.set(connection, { header, token, principal });
    return { token, principal };
  };

  return {
    checkCached(call, connection) {
      const decision = policy.decide(call.path, call.service);
      if (decision.kind === "public") return {};
      if (decision.kind === "deny") return undefined;
      const found = cachedPrincipal(call.headers.authorization, connection);
      if (found === undefined) return undefined;
      const { token, principal } = found;
      if (missingScopes(decision.scopes, principal.token.scopes).length > 0) return undefined;
      cacheHits++;
      return upstreamMetadata(principal, token);
    },
    async check(call) {
      const decision = policy.decide(call.path, call.service);
      if (decision.kind === "public") return {};
      if (decision.kind === "deny") {
        throw new GatewayError("denied_by_policy", `no rule allows ${call.path.slice(0, 200)}`);
      }
      const token = extractBearerToken(call.headers.authorization, config.maxTokenBytes);
      const principal = await principalFor(token);
      const missing = missingScopes(decision.scopes, principal.token.scopes);
      if (missing.length > 0) throw insufficientScopeError(decision.scopes, missing);
      return upstreamMetadata(principal, token);
    },
    close() {
      for (const k of keys.values()) k.close();
      cache.clear();
      lastOnConnection = new WeakMap();
    },
    stats: () => ({ verifications, cacheHits, cacheSize: cache.size }),
  };
}
