/**
 * One issuer's signing keys: discovery → JWKS, cached, refetched on an
 * unknown `kid` at most once per cooldown.
 *
 * Why not jose's createRemoteJWKSet: checked against jose 6.2.17 with a real
 * IdP, (1) its cooldown starts only after a *successful* fetch, so while the
 * IdP is down every token with an unknown kid triggers another fetch (20
 * tokens → 20 requests); (2) once `cacheMaxAge` has passed it awaits a
 * refetch before verifying and fails the call if the IdP is down, although
 * the cached keys are still good; (3) it reads Date.now(), so time cannot be
 * injected. Here every attempt, failed or not, starts the cooldown; stale
 * keys keep serving while a refresh runs in the background; a failed fetch
 * never drops keys that were fetched before. jose's createLocalJWKSet still
 * does the key selection (kid, alg, kty, use).
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { Logger } from "pino";
import { GatewayError } from "../errors.ts";
import { discoverJwksUri, fetchJson } from "./discovery.ts";

export const KEY_DEFAULTS = {
  /** At most one fetch per this interval for unknown kids (jose's default). */
  cooldownMs: 30_000,
  /** While no key was ever fetched, retry this often (a down IdP at start-up). */
  emptyRetryMs: 5_000,
  /** Refresh keys in the background when older than this (jose's cacheMaxAge). */
  refreshMs: 600_000,
  timeoutMs: 5_000,
} as const;

export interface IssuerKeysOptions {
  readonly issuer: string;
  /** Configured jwksUri; absent: discovered. */
  readonly jwksUri: URL | undefined;
  readonly now: () => number;
  readonly log: Logger;
  /** Told of every fetch attempt (metrics). */
  readonly onFetch?: (issuer: string, ok: boolean) => void;
  readonly cooldownMs?: number;
  readonly emptyRetryMs?: number;
  readonly refreshMs?: number;
  readonly timeoutMs?: number;
}

export interface IssuerKeys {
  /** Key resolver for jose's jwtVerify; throws GatewayError jwks_unavailable when no keys are known. */
  readonly getKey: JWTVerifyGetKey;
  /** Fetches now, unless a fetch is running (then joins it). Resolves false on failure; never rejects. */
  refresh(): Promise<boolean>;
  /** Aborts a running fetch. */
  close(): void;
}

type LocalKeys = ReturnType<typeof createLocalJWKSet>;

export function createIssuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const cooldownMs = options.cooldownMs ?? KEY_DEFAULTS.cooldownMs;
  const emptyRetryMs = options.emptyRetryMs ?? KEY_DEFAULTS.emptyRetryMs;
  const refreshMs = options.refreshMs ?? KEY_DEFAULTS.refreshMs;
  const timeoutMs = options.timeoutMs ?? KEY_DEFAULTS.timeoutMs;
  const { issuer, now, log } = options;
  const closing = new AbortController();
  let jwksUri = options.jwksUri;
  let local: LocalKeys | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<boolean> | undefined;

  const load = async (): Promise<boolean> => {
    attemptedAt = now();
    try {
      jwksUri ??= await discoverJwksUri(issuer, { timeoutMs, signal: closing.signal });
      const jwks = await fetchJson(jwksUri, { timeoutMs, signal: closing.signal });
      local = createLocalJWKSet(jwks as JSONWebKeySet); // throws JWKSInvalid if malformed
      fetchedAt = now();
      log.debug({ issuer, keys: (jwks as JSONWebKeySet).keys.length }, "fetched the issuer's JWKS");
      options.onFetch?.(issuer, true);
      return true;
    } catch (err) {
      options.onFetch?.(issuer, false);
      // A moved jwks_uri is found again by the next discovery.
      if (options.jwksUri === undefined) jwksUri = undefined;
      log.warn(
        {
          issuer,
          error: err instanceof Error ? err.message : String(err),
          cachedKeys: local !== undefined,
        },
        local === undefined
          ? "cannot fetch the issuer's keys; calls needing them fail with jwks_unavailable until a retry succeeds"
          : "cannot refresh the issuer's keys; still using the cached ones",
      );
      return false;
    }
  };

  const refresh = (): Promise<boolean> => {
    pending ??= load().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  const sinceAttempt = () => now() - attemptedAt;

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (local === undefined) {
      if (pending !== undefined) await pending;
      else if (sinceAttempt() >= emptyRetryMs) await refresh();
    } else if (
      now() - fetchedAt >= refreshMs &&
      pending === undefined &&
      sinceAttempt() >= cooldownMs
    ) {
      void refresh(); // stale-while-revalidate: this call uses the cached keys
    }
    const keys = local;
    if (keys === undefined) {
      throw new GatewayError(
        "jwks_unavailable",
        "the issuer's signing keys could not be fetched; retrying shortly",
      );
    }
    try {
      return await keys(header, token);
    } catch (err) {
      if ((err as { code?: unknown }).code !== "ERR_JWKS_NO_MATCHING_KEY") throw err;
      // Unknown kid: the IdP may have rotated keys. Join a running fetch, or
      // start one if the cooldown allows; otherwise answer unknown_key.
      if (pending !== undefined) await pending;
      else if (sinceAttempt() >= cooldownMs) await refresh();
      else throw err;
      return (local as LocalKeys)(header, token);
    }
  };

  return {
    getKey,
    refresh,
    close() {
      closing.abort();
    },
  };
}

/** One IssuerKeys per configured issuer, by issuer. */
export function createKeysByIssuer(
  issuers: ReadonlyArray<{ readonly issuer: string; readonly jwksUri: URL | undefined }>,
  options: Omit<IssuerKeysOptions, "issuer" | "jwksUri">,
): Map<string, IssuerKeys> {
  return new Map(
    issuers.map((i) => [
      i.issuer,
      createIssuerKeys({ ...options, issuer: i.issuer, jwksUri: i.jwksUri }),
    ]),
  );
}
