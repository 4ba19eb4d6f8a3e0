/**
 * The upstream pools of a gateway and the reload of every certificate they
 * and the listener use (a renewal needs no restart; a broken new file keeps
 * the old credentials and logs why).
 */
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { GatewayConfig, TlsFiles } from "../config/config.ts";
import { type FileWatcher, watchFiles } from "./file-watch.ts";
import { createUpstreamPool, type UpstreamPool } from "./pool.ts";
import { readListenerTls, readUpstreamTls } from "./tls-material.ts";

export interface UpstreamPools {
  readonly list: readonly UpstreamPool[];
  /** Starts reloading the listener certificate when its files change. */
  watchListener(files: TlsFiles): void;
  close(): void;
}

export function createUpstreamPools(
  config: GatewayConfig,
  app: FastifyInstance,
  log: FastifyBaseLogger,
): UpstreamPools {
  const watchers: FileWatcher[] = [];
  const list = config.upstreams.map((upstream) => {
    const pool = createUpstreamPool({
      name: upstream.name,
      address: upstream.address,
      tls: readUpstreamTls(upstream.tls, upstream.tls.serverName),
      maxStreamsPerSession: upstream.maxStreamsPerSession,
      log: log as Logger,
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
    list,
    watchListener(files) {
      watchers.push(
        watchFiles([files.certFile, files.keyFile], config.reload.intervalMs, () => {
          try {
            const tls = readListenerTls(files.certFile, files.keyFile);
            (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext({
              cert: tls.cert,
              key: tls.key,
            });
            log.info("listener certificate reloaded");
          } catch (err) {
            log.error(
              { err: (err as Error).message },
              "listener certificate reload refused; keeping the certificate in use",
            );
          }
        }),
      );
    },
    close() {
      for (const w of watchers) w.close();
      for (const pool of list) pool.close(false);
    },
  };
}
