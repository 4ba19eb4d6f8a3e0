/**
 * Verified tokens, so a client repeating its token does not pay a signature
 * check per call. Bounded LRU (Map insertion order). The key is the token's
 * SHA-256, not the token: entries then cost ~43 bytes of key instead of up
 * to auth.maxTokenBytes, and the cache holds no usable credential.
 *
 * An entry is valid until the token's `exp` and never past it; every hit
 * compares with `now`, so an expired token is re-verified (and rejected
 * with token_expired, clock tolerance included) instead of served from here.
 * The cached value is the principal, not a decision: scopes are checked per
 * method on every call.
 */
import { hash } from "node:crypto";

export const DEFAULT_MAX_ENTRIES = 10_000;

export interface TokenCache<V> {
  get(token: string, nowMs: number): V | undefined;
  /** Stores until `expiresAtMs`; ignored if that is not in the future. */
  set(token: string, value: V, expiresAtMs: number, nowMs: number): void;
  readonly size: number;
  clear(): void;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAtMs: number;
}

export function tokenCacheKey(token: string): string {
  return hash("sha256", token, "base64url");
}

export function createTokenCache<V>(maxEntries: number = DEFAULT_MAX_ENTRIES): TokenCache<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError("maxEntries must be a positive integer");
  const entries = new Map<string, Entry<V>>();
  return {
    get(token, nowMs) {
      const key = tokenCacheKey(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (nowMs >= entry.expiresAtMs) return undefined;
      entries.set(key, entry); // most recently used last
      return entry.value;
    },
    set(token, value, expiresAtMs, nowMs) {
      if (!(expiresAtMs > nowMs)) return;
      const key = tokenCacheKey(token);
      entries.delete(key);
      entries.set(key, { value, expiresAtMs });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value as string;
        entries.delete(oldest);
      }
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}
