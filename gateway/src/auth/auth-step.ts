/**
 * Pipeline steps 4-5 (authenticate, authorize), composed:
 *
 *   policy decision ─ public ─────────────────────────────▶ no identity
 *                   ─ deny ───────────────────────────────▶ denied_by_policy (7)
 *                   ─ authenticated: token ▶ cache ▶ verify ▶ [DPoP proof] ▶ scopes ▶ identity headers
 *
 * A token sent with the DPoP scheme must be bound to a key (cnf.jkt) and come
 * with a fresh proof of that key on every call (dpop-check.ts); a bound token
 * sent as Bearer is refused, as is any Bearer token when auth.dpop.mode is
 * required. The verified token is cached either way; a proof never is.
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
import { type AccessToken, parseAuthorization } from "./authorization-header.ts";
import type { DpopCheck } from "./dpop-check.ts";
import type { IssuerKeys } from "./issuer-keys.ts";
import { compilePolicy } from "./policy.ts";
import { identityHeaders, missingScopes } from "./principal.ts";
import { createTokenCache } from "./token-cache.ts";
import type { VerifiedToken } from "./token-verifier.ts";
import {
  asDpopRefusal,
  dpopChallenge,
  insufficientScopeError,
  invalidTokenError,
} from "./www-authenticate.ts";

export interface CallInfo {
  /** "/pkg.Service/Method" */
  readonly path: string;
  readonly service: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** For a DPoP proof's htm and htu: the HTTP method, the listener's scheme and the Host sent. */
  readonly httpMethod?: string;
  readonly scheme?: string;
  readonly host?: string | undefined;
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
  close(): Promise<void>;
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

/** A decision that waits on verifying `credential` (or its DPoP proof), then on the method's `scopes`. */
class PendingVerification {
  readonly credential: AccessToken;
  readonly principal: CachedPrincipal | undefined;
  readonly scopes: readonly string[];
  constructor(
    credential: AccessToken,
    principal: CachedPrincipal | undefined,
    scopes: readonly string[],
  ) {
    this.credential = credential;
    this.principal = principal;
    this.scopes = scopes;
  }
}

/** Every call allowed, without identity: a gateway without an `auth` section. */
const ALLOW_ALL: AuthStep = {
  authorize: () => NO_METADATA,
  async close() {},
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
  // Loaded only with an auth section: they bring jose, which a gateway
  // without one would hold in memory for nothing.
  const [{ createDpopCheck }, { createKeysByIssuer }, { createTokenVerifier }] = await Promise.all([
    import("./dpop-check.ts"),
    import("./issuer-keys.ts"),
    import("./token-verifier.ts"),
  ]);
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
    dpop: config.dpop.mode !== "off",
  });
  const dpop: DpopCheck | undefined =
    config.dpop.mode === "off"
      ? undefined
      : createDpopCheck(config.dpop, {
          log: deps.log,
          now,
          clockToleranceSeconds: config.clockToleranceSeconds,
        });
  const cache = createTokenCache<CachedPrincipal>();
  // Per keep-alive connection, its last verified authorization header: a
  // string compare instead of parsing and hashing it on every call.
  let lastOnConnection = new WeakMap<
    object,
    {
      readonly header: string;
      readonly credential: AccessToken;
      readonly principal: CachedPrincipal;
    }
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
    credential: AccessToken,
  ): Metadata => {
    const missing = missingScopes(scopes, principal.token.scopes);
    if (missing.length > 0) throw insufficientScopeError(scopes, missing);
    return config.forwardAuthorization
      ? { ...principal.headers, authorization: `${credential.scheme} ${credential.token}` }
      : principal.headers;
  };

  /**
   * Whether the scheme fits the token: a DPoP-bound token only with DPoP (a
   * copied bound token is useless as Bearer), a Bearer token not when DPoP is
   * required, the DPoP scheme only with a bound token.
   */
  const checkScheme = (credential: AccessToken, principal: CachedPrincipal): void => {
    const { jkt } = principal.token;
    const algorithms = config.dpop.algorithms;
    if (credential.scheme === "DPoP") {
      if (jkt === undefined) {
        throw asDpopRefusal(
          invalidTokenError(
            "wrong_token_type",
            "the token is not bound to a DPoP key (no cnf.jkt); send it as Bearer",
          ),
          algorithms,
        );
      }
      return;
    }
    if (jkt !== undefined) {
      throw invalidTokenError(
        "dpop_bound_token",
        "the token is bound to a DPoP key: send it with the DPoP scheme and a proof",
      );
    }
    if (config.dpop.mode === "required") {
      throw new GatewayError(
        "dpop_required",
        "this gateway accepts only DPoP-bound tokens with a proof",
        {
          headers: {
            "www-authenticate": dpopChallenge(algorithms, {
              error: "invalid_token",
              error_description: "dpop_required",
            }),
          },
        },
      );
    }
  };

  /**
   * The bearer token of this header and its verified principal if one is
   * known: the connection's memo first, then the cache. Throws for a
   * missing or malformed header.
   */
  const lookup = (
    header: string | string[] | undefined,
    connection: object | undefined,
  ): { readonly credential: AccessToken; readonly principal: CachedPrincipal | undefined } => {
    const nowMs = now();
    const last = connection === undefined ? undefined : lastOnConnection.get(connection);
    if (last !== undefined && last.header === header && nowMs < last.principal.token.expiresAtMs)
      return last;
    const credential = parseAuthorization(header, config.maxTokenBytes, config.dpop);
    const principal = cache.get(credential.token, nowMs);
    if (principal !== undefined && connection !== undefined && typeof header === "string")
      lastOnConnection.set(connection, { header, credential, principal });
    return { credential, principal };
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
    const { credential, principal } = lookup(call.headers.authorization, connection);
    if (principal === undefined || credential.scheme === "DPoP") {
      return new PendingVerification(credential, principal, decision.scopes);
    }
    cacheHits++;
    checkScheme(credential, principal);
    return upstreamMetadata(decision.scopes, principal, credential);
  };

  /** Verifies what `resolve` could not: the token (unless cached), then a DPoP proof for this call. */
  const complete = async (call: CallInfo, pending: PendingVerification): Promise<Metadata> => {
    const { credential, scopes } = pending;
    let principal = pending.principal;
    if (principal === undefined) {
      try {
        principal = await verifyShared(credential.token);
      } catch (err) {
        throw credential.scheme === "DPoP" && err instanceof GatewayError
          ? asDpopRefusal(err, config.dpop.algorithms)
          : err;
      }
    } else cacheHits++;
    checkScheme(credential, principal);
    if (credential.scheme === "DPoP" && dpop !== undefined) {
      await dpop.verify(
        {
          path: call.path,
          method: call.httpMethod ?? "POST",
          scheme: call.scheme ?? "http",
          host: call.host,
          headers: call.headers,
        },
        credential.token,
        principal.token.jkt as string,
      );
    }
    return upstreamMetadata(scopes, principal, credential);
  };

  const authorize = (call: CallInfo, connection?: object): Metadata | Promise<Metadata> => {
    const resolved = resolve(call, connection);
    return resolved instanceof PendingVerification ? complete(call, resolved) : resolved;
  };

  return {
    authorize,
    async close() {
      for (const k of keys.values()) k.close();
      cache.clear();
      lastOnConnection = new WeakMap();
      await dpop?.close();
    },
    stats: () => ({ verifications, cacheHits, cacheSize: cache.size }),
  };
}
