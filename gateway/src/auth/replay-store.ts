/**
 * Where used DPoP proof ids (jti) are remembered until the proof would be
 * stale anyway, so that each proof is accepted once (RFC 9449 §11.1). In
 * memory for one gateway process; in Redis (redis-replay-store.ts) when
 * several replicas must refuse each other's replays.
 */
import { GatewayError } from "../errors.ts";

export interface ReplayStore {
  /**
   * Records `key` for `ttlMs`: true the first time, false for a replay.
   * Rejects with replay_store_unavailable when it cannot tell.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The memory store's bound: past it, new proofs are refused rather than forgetting old ones early. */
const MEMORY_REPLAY_ENTRIES = 1_000_000;

export function createMemoryReplayStore(
  now: () => number,
  maxEntries = MEMORY_REPLAY_ENTRIES,
): ReplayStore {
  const seen = new Map<string, number>();
  let sweepAt = 1024;
  let sweptAtMs = Number.NEGATIVE_INFINITY;
  /**
   * Drops expired ids; amortised by sweeping when the map has doubled since
   * the last sweep, and when full at most once a second.
   */
  const sweep = (nowMs: number) => {
    for (const [key, expiresAt] of seen) if (expiresAt <= nowMs) seen.delete(key);
    sweepAt = Math.max(1024, seen.size * 2);
    sweptAtMs = nowMs;
  };
  return {
    async claim(key, ttlMs) {
      const nowMs = now();
      const expiresAt = seen.get(key);
      if (expiresAt !== undefined && expiresAt > nowMs) return false;
      if (seen.size >= sweepAt || (seen.size >= maxEntries && nowMs - sweptAtMs >= 1000)) {
        sweep(nowMs);
      }
      if (seen.size >= maxEntries) {
        throw new GatewayError(
          "replay_store_unavailable",
          `the in-memory DPoP replay store holds ${maxEntries} proofs; use a Redis replay store for this load`,
        );
      }
      seen.set(key, nowMs + ttlMs);
      return true;
    },
    async close() {
      seen.clear();
    },
  };
}
