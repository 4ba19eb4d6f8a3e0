/**
 * The upstream on connect-node: node:http2 with mutual TLS, gRPC protocol
 * only (what the gateway speaks upstream; gRPC-Web and Connect are off so a
 * test cannot pass by accident through a protocol the gateway never uses).
 */

import { createSecureServer } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { Health } from "@grpc-edge/proto/grpc/health/v1/health";
import {
  createUpstreamServices,
  type RunningUpstream,
  resolveUpstreamOptions,
  type UpstreamOptions,
  upstreamUrl,
} from "./upstream.ts";

/** Starts NotesService and Health on connect-node; resolves once listening. */
export async function startConnectUpstream(options: UpstreamOptions): Promise<RunningUpstream> {
  const { tls, host, port, requireClientCert, store } = resolveUpstreamOptions(options);
  const { notes, health } = createUpstreamServices(store);
  // Aborting it aborts every handler's signal: long streams stop on close().
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    routes(router: ConnectRouter) {
      router.service(NotesService, notes);
      router.service(Health, health.impl);
    },
    grpc: true,
    grpcWeb: false,
    connect: false,
    shutdownSignal: shutdown.signal,
  });
  const server = createSecureServer(
    {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      requestCert: requireClientCert,
      rejectUnauthorized: true,
      allowHTTP1: false,
    },
    handler,
  );
  // Track raw sockets, not only HTTP/2 sessions: a connection still in its
  // TLS handshake has no session yet but would keep server.close() waiting.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    implementation: "connect",
    port: bound,
    url: upstreamUrl(host, bound),
    health,
    store,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        shutdown.abort();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
