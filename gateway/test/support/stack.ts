/**
 * A whole stack for a test: dev PKI in a temp folder, a real upstream
 * (connect-node or @grpc/grpc-js) over mTLS, and a gateway in front of it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type DevPki,
  ensureDevPki,
  type RunningUpstream,
  startConnectUpstream,
  startGrpcJsUpstream,
} from "@grpc-edge/example-upstream";
import { startGateway, type TestGateway } from "./gateway.ts";

export type TestPki = DevPki;
export const UPSTREAM_IMPLEMENTATIONS = ["connect-node", "grpc-js"] as const;
export type UpstreamImplementation = (typeof UPSTREAM_IMPLEMENTATIONS)[number];

let shared: Promise<TestPki> | undefined;

/** One dev PKI per test process, in a fresh temp folder. */
export function testPki(): Promise<TestPki> {
  shared ??= ensureDevPki({ dir: mkdtempSync(join(tmpdir(), "grpc-edge-pki-")), log: () => {} });
  return shared;
}

/** A raw gateway config (as the YAML would say) for one upstream. */
export function gatewayConfig(
  pki: TestPki,
  upstreamUrl: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cors: { allowedOrigins: ["http://localhost:5173"] },
    upstreams: [
      {
        name: "notes",
        address: upstreamUrl,
        services: ["demo.notes.v1.NotesService", "grpc.health.v1.Health"],
        tls: {
          caFile: pki.caFile,
          certFile: pki.clientCertFile,
          keyFile: pki.clientKeyFile,
          serverName: "localhost",
        },
      },
    ],
    ...extra,
  };
}

export function startUpstream(
  impl: UpstreamImplementation,
  pki: TestPki,
  port = 0,
): Promise<RunningUpstream> {
  return impl === "connect-node"
    ? startConnectUpstream({ tls: pki, port })
    : startGrpcJsUpstream({ tls: pki, port });
}

export interface Stack {
  readonly pki: TestPki;
  readonly upstream: RunningUpstream;
  readonly gateway: TestGateway;
  close(): Promise<void>;
}

export async function startStack(options: {
  impl: UpstreamImplementation;
  gateway?: Record<string, unknown>;
}): Promise<Stack> {
  const pki = await testPki();
  const upstream = await startUpstream(options.impl, pki);
  const gateway = await startGateway(gatewayConfig(pki, upstream.url, options.gateway));
  return {
    pki,
    upstream,
    gateway,
    async close() {
      await gateway.close();
      await upstream.close();
    },
  };
}
