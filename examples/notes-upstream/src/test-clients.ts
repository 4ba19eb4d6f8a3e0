/**
 * gRPC clients for the tests: connect-node's gRPC transport over HTTP/2, with
 * whatever TLS material a test wants to present (or none).
 */
import { connect as connectTls } from "node:tls";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { Health } from "@grpc-edge/proto/grpc/health/v1/health";

export interface ClientTls {
  /** CA that signed the server's certificate. */
  readonly ca: string;
  /** Client certificate and key; omitted to connect without one. */
  readonly cert?: string;
  readonly key?: string;
}

export interface TestClients {
  readonly notes: Client<typeof NotesService>;
  readonly health: Client<typeof Health>;
}

/** Clients of both services sharing one HTTP/2 connection to `url`. */
export function createTestClients(url: string, tls: ClientTls): TestClients {
  const transport = createGrpcTransport({
    baseUrl: url,
    nodeOptions: {
      ca: tls.ca,
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
    },
  });
  return { notes: createClient(NotesService, transport), health: createClient(Health, transport) };
}

/**
 * Opens a bare TLS connection to `url` as an HTTP/2 client would, sends
 * nothing, and tells how the server answered: "accepted" when its HTTP/2
 * SETTINGS frame arrives (a server sends one as soon as it accepts), the
 * error code of a TLS alert (e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED),
 * or "closed" when the server hung up without either. With TLS 1.3 the
 * client's handshake completes before the server has checked the client
 * certificate, so only what follows tells acceptance from rejection.
 */
export function tlsProbe(url: string, tls: ClientTls): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connectTls({
      host: hostname,
      port: Number(port),
      ca: tls.ca,
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      ALPNProtocols: ["h2"],
    });
    const settle = (outcome: string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.once("error", (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
    socket.once("data", () => settle("accepted"));
    socket.once("close", () => settle("closed"));
  });
}
