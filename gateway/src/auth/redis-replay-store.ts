/**
 * The DPoP replay store in Redis, shared by every gateway replica: one
 * `SET key 1 NX PX ttl` per proof, atomic, expiring with the proof's window.
 * Closed by default: while Redis cannot be reached (not connected, or no
 * answer within timeoutMs) a proof cannot be checked for reuse, so DPoP calls
 * fail with 14 replay_store_unavailable; calls without DPoP are unaffected.
 *
 * The client is loaded when a gateway uses a Redis replay store, not by
 * every gateway: the module alone holds tens of MiB.
 */
import type { Logger } from "pino";
import type { RedisClientType } from "redis";
import { GatewayError } from "../errors.ts";
import type { ReplayStore } from "./replay-store.ts";

export interface RedisReplayStoreOptions {
  readonly url: string;
  readonly log: Logger;
  /** Connect and command timeout. */
  readonly timeoutMs?: number;
}

const unavailable = (why: string, cause?: unknown) =>
  new GatewayError("replay_store_unavailable", `the DPoP replay store is unavailable: ${why}`, {
    ...(cause === undefined ? {} : { cause }),
  });

/** Connects in the background; commands fail fast while disconnected. */
async function connect(
  options: RedisReplayStoreOptions,
  timeoutMs: number,
): Promise<RedisClientType> {
  const { createClient } = await import("./redis-client.ts");
  const client: RedisClientType = createClient({
    url: options.url,
    // Commands fail at once while disconnected instead of queueing behind a reconnect.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: timeoutMs,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
    },
  });
  let reported = false;
  client.on("error", (err: Error) => {
    // Once per outage: the client retries on its own and would log every attempt.
    if (reported) return;
    reported = true;
    options.log.warn(
      { err: { message: err.message } },
      "DPoP replay store (Redis) unreachable; DPoP calls fail until it is back",
    );
  });
  client.on("ready", () => {
    if (reported) options.log.info("DPoP replay store (Redis) reachable again");
    reported = false;
  });
  client.connect().catch(() => undefined);
  return client;
}

export function createRedisReplayStore(options: RedisReplayStoreOptions): ReplayStore {
  const timeoutMs = options.timeoutMs ?? 1000;
  const connecting = connect(options, timeoutMs);
  connecting.catch(() => undefined);

  return {
    async claim(key, ttlMs) {
      const client = await connecting.catch((err: unknown) => {
        throw unavailable("the Redis client could not be loaded", err);
      });
      if (!client.isReady) throw unavailable("not connected");
      let timer: NodeJS.Timeout | undefined;
      try {
        const answer = await Promise.race([
          client.set(`grpc-edge:dpop:${key}`, "1", {
            condition: "NX",
            expiration: { type: "PX", value: Math.max(1, Math.ceil(ttlMs)) },
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(unavailable(`no answer in ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
        return answer === "OK";
      } catch (err) {
        throw err instanceof GatewayError ? err : unavailable("the command failed", err);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      (await connecting.catch(() => undefined))?.destroy();
    },
  };
}
