/**
 * The main listener as Fastify server options: plain HTTP/1.1, or TLS with
 * ALPN h2 and http/1.1 on one port. Fastify makes the server, with its
 * keep-alive and HTTP/2 session timeouts. The certificate is reloaded when
 * its files change, without a restart; a broken renewal keeps the one in use.
 */
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { TlsFiles } from "../config/config.ts";
import { type FileWatcher, watchFiles } from "../upstream/file-watch.ts";
import { readListenerTls } from "../upstream/tls-material.ts";

export type ListenerOptions =
  | Record<string, never>
  | {
      readonly http2: true;
      readonly https: { readonly allowHTTP1: true; readonly cert: Buffer; readonly key: Buffer };
    };

/** Fastify's `http2`/`https` options for the listener (none: plain HTTP/1.1). */
export function listenerOptions(tls: TlsFiles | undefined): ListenerOptions {
  if (tls === undefined) return {};
  const { cert, key } = readListenerTls(tls.certFile, tls.keyFile);
  return { http2: true, https: { allowHTTP1: true, cert, key } };
}

/** Reloads the listener's certificate when its files change. */
export function watchListenerCertificate(
  app: FastifyInstance,
  files: TlsFiles,
  intervalMs: number,
  log: FastifyBaseLogger,
): FileWatcher {
  return watchFiles([files.certFile, files.keyFile], intervalMs, () => {
    try {
      const { cert, key } = readListenerTls(files.certFile, files.keyFile);
      (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext({
        cert,
        key,
      });
      log.info("listener certificate reloaded");
    } catch (err) {
      log.error(
        { err: (err as Error).message },
        "listener certificate reload refused; keeping the certificate in use",
      );
    }
  });
}
