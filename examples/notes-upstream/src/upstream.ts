/**
 * What both upstream servers share: their options, the handle they return,
 * and the services they serve. Each server file only adapts these to its
 * HTTP/2 stack, so the two cannot drift apart.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { Health } from "@grpc-edge/proto/grpc/health/v1/health";
import { createHealthService, type HealthControl, type HealthService } from "./health-service.ts";
import { createNotesService } from "./notes-service.ts";
import { createNotesStore, type NotesStore } from "./notes-store.ts";
import type { DevPki } from "./pki.ts";

/** Server TLS material, PEM. */
export interface UpstreamTlsPem {
  /** CA(s) whose client certificates are accepted. */
  readonly ca: string;
  /** The server certificate (chain). */
  readonly cert: string;
  readonly key: string;
}

export interface UpstreamOptions {
  /** A dev PKI (its CA, server certificate and key are used) or explicit PEMs. */
  readonly tls: DevPki | UpstreamTlsPem;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). Pass a previous upstream's port to restart it in place. */
  readonly port?: number;
  /** Refuse the TLS handshake without a client certificate signed by `ca`. Default true. */
  readonly requireClientCert?: boolean;
  /** Notes to serve; pass the previous upstream's store to keep its notes across a restart. */
  readonly store?: NotesStore;
}

/** A started upstream. */
export interface RunningUpstream {
  readonly implementation: "connect" | "grpc-js";
  readonly port: number;
  /** `https://<host>:<port>`, what a client or the gateway config dials. */
  readonly url: string;
  readonly health: HealthControl;
  readonly store: NotesStore;
  /**
   * Stops listening and destroys open connections at once (calls in flight
   * fail on the client): tests end fast, and a restart on the same port works
   * as soon as it resolves.
   */
  close(): Promise<void>;
}

/** UpstreamOptions with defaults applied and the TLS material as PEMs. */
export interface ResolvedUpstreamOptions {
  readonly tls: UpstreamTlsPem;
  readonly host: string;
  readonly port: number;
  readonly requireClientCert: boolean;
  readonly store: NotesStore;
}

/** Applies defaults once, and checks the port. */
export function resolveUpstreamOptions(options: UpstreamOptions): ResolvedUpstreamOptions {
  const port = options.port ?? 0;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new RangeError(`port must be 0..65535, got ${port}`);
  }
  const { tls } = options;
  return {
    tls: "serverCert" in tls ? { ca: tls.ca, cert: tls.serverCert, key: tls.serverKey } : tls,
    host: options.host ?? "127.0.0.1",
    port,
    requireClientCert: options.requireClientCert ?? true,
    store: options.store ?? createNotesStore(),
  };
}

/** The services an upstream serves, ready to register. */
export interface UpstreamServices {
  readonly notes: ServiceImpl<typeof NotesService>;
  readonly health: HealthService;
}

/** Builds the service implementations, with health reporting on every served service. */
export function createUpstreamServices(store: NotesStore): UpstreamServices {
  return {
    notes: createNotesService(store),
    health: createHealthService([NotesService.typeName, Health.typeName]),
  };
}

/** `https://host:port`, bracketing an IPv6 literal. */
export function upstreamUrl(host: string, port: number): string {
  return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
