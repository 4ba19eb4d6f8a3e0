/**
 * One pool per configured upstream, each reloading its TLS credentials when
 * their files change (a renewal needs no restart; a broken new file keeps
 * the credentials in use and logs why).
 */
import type { Logger } from "pino";
import type { GatewayConfig } from "../config/config.ts";
import { type FileWatcher, watchFiles } from "./file-watch.ts";
import { createUpstreamPool, type UpstreamPool } from "./pool.ts";
import { readUpstreamTls } from "./tls-material.ts";

export interface Upstreams {
  /** In the order of `upstreams` in the config. */
  readonly pools: readonly UpstreamPool[];
  /** Stops watching files and cancels every upstream stream. */
  close(): void;
}

export function createUpstreams(config: GatewayConfig, log: Logger): Upstreams {
  const watchers: FileWatcher[] = [];
  const pools = config.upstreams.map((upstream) => {
    const pool = createUpstreamPool({
      name: upstream.name,
      address: upstream.address,
      tls: readUpstreamTls(upstream.tls, upstream.tls.serverName),
      maxStreamsPerSession: upstream.maxStreamsPerSession,
      keepalive: {
        pingIntervalMs: upstream.pingIntervalMs,
        pingTimeoutMs: upstream.pingTimeoutMs,
        idleConnectionTimeoutMs: upstream.idleConnectionTimeoutMs,
      },
      log,
    });
    const files = [upstream.tls.caFile, upstream.tls.certFile, upstream.tls.keyFile];
    watchers.push(
      watchFiles(files, config.reload.intervalMs, () => {
        try {
          pool.updateTls(readUpstreamTls(upstream.tls, upstream.tls.serverName));
          log.info({ upstream: upstream.name }, "upstream TLS credentials reloaded");
        } catch (err) {
          log.error(
            { upstream: upstream.name, err: (err as Error).message },
            "upstream TLS reload refused; keeping the credentials in use",
          );
        }
      }),
    );
    return pool;
  });
  return {
    pools,
    close() {
      for (const w of watchers) w.close();
      for (const pool of pools) pool.close(false);
    },
  };
}
