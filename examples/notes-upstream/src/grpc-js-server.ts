/**
 * The upstream on @grpc/grpc-js, the reference gRPC implementation for Node:
 * the gateway must relay a stock gRPC server's framing, trailers-only
 * replies and HTTP/2 behaviour, not only connect-node's. Same services, same
 * logic (through grpc-js-adapter.ts), same options and handle.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { Health } from "@grpc-edge/proto/grpc/health/v1/health";
import { toGrpcJsService } from "./grpc-js-adapter.ts";
import {
  createUpstreamServices,
  type RunningUpstream,
  resolveUpstreamOptions,
  type UpstreamOptions,
  upstreamUrl,
} from "./upstream.ts";

/** Starts NotesService and Health on grpc-js; resolves once listening. */
export async function startGrpcJsUpstream(options: UpstreamOptions): Promise<RunningUpstream> {
  const { tls, host, port, requireClientCert, store } = resolveUpstreamOptions(options);
  const { notes, health } = createUpstreamServices(store);
  const shutdown = new AbortController();
  const server = new Server({
    // grpc-js refuses requests over 4 MiB by default, connect-node does not:
    // lift it so both upstreams accept the same calls (Echo benchmarks).
    "grpc.max_receive_message_length": -1,
  });
  for (const [desc, impl] of [
    [NotesService, notes],
    [Health, health.impl],
  ] as const) {
    const { definition, implementation } = toGrpcJsService(desc, impl, shutdown.signal);
    server.addService(definition, implementation);
  }
  const credentials = ServerCredentials.createSsl(
    Buffer.from(tls.ca),
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    // true: request a client certificate and fail the handshake unless it
    // chains to `ca`.
    requireClientCert,
  );
  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    implementation: "grpc-js",
    port: bound,
    url: upstreamUrl(host, bound),
    health,
    store,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // tryShutdown resolves once the listener and sessions are gone;
        // forceShutdown makes that immediate by destroying the sessions.
        server.tryShutdown(() => resolve());
        shutdown.abort();
        server.forceShutdown();
      });
      return closing;
    },
  };
}
