/** Request bodies and gateway configs shared by the benchmark scripts. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import type { DevPki } from "@grpc-edge/example-upstream";
import { DownloadRequestSchema, EchoRequestSchema } from "@grpc-edge/proto/demo/notes/v1/notes";
import { stringify } from "yaml";
import { gatewayConfig } from "../../gateway/test/support/stack.ts";
import type { LoadSpec } from "./load-generator.ts";

export const ECHO = "/demo.notes.v1.NotesService/Echo";
export const DOWNLOAD = "/demo.notes.v1.NotesService/Download";

/** A gRPC message frame (uncompressed). */
export function frame(message: Uint8Array): Buffer {
  const f = Buffer.alloc(5 + message.length);
  f.writeUInt32BE(message.length, 1);
  f.set(message, 5);
  return f;
}

/** EchoRequest with a 100-byte payload, framed. */
export const echo100 = frame(
  toBinary(EchoRequestSchema, create(EchoRequestSchema, { payload: new Uint8Array(100).fill(7) })),
);

/** DownloadRequest for chunkCount messages of chunkBytes, framed. */
export const download = (chunkCount: number, chunkBytes: number): Buffer =>
  frame(toBinary(DownloadRequestSchema, create(DownloadRequestSchema, { chunkCount, chunkBytes })));

/** The 100-byte Echo as binary gRPC-Web over plain HTTP/1.1 to 127.0.0.1:`port` (`extra` overrides). */
export const echoOverHttp1 = (
  port: number,
  concurrency: number,
  seconds: number,
  extra: Partial<LoadSpec> = {},
): LoadSpec => ({
  protocol: "h1",
  url: `http://127.0.0.1:${port}`,
  path: ECHO,
  contentType: "application/grpc-web+proto",
  body: echo100.toString("base64"),
  textResponse: false,
  nativeGrpc: false,
  concurrency,
  seconds,
  ...extra,
});

/** Writes a gateway config (the tests' one upstream over mTLS, 127.0.0.1, port 0, log level warn) and returns its path. */
export function writeGatewayConfig(
  dir: string,
  upstreamUrl: string,
  pki: DevPki,
  extra: Record<string, unknown>,
): string {
  const config = gatewayConfig(pki, upstreamUrl, {
    listen: { host: "127.0.0.1", port: 0 },
    log: { level: "warn" },
    ...extra,
  });
  const file = join(
    dir,
    `gateway-${Object.keys(extra).join("-") || "plain"}-${Math.random().toString(36).slice(2)}.yaml`,
  );
  writeFileSync(file, stringify(config));
  return file;
}

/** Config for a TLS listener on 127.0.0.1 (HTTP/2 by ALPN, and HTTP/1.1), with the dev server certificate. */
export const tlsListen = (pki: DevPki) => ({
  listen: {
    host: "127.0.0.1",
    port: 0,
    tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile },
  },
});

/** Config for JWT auth against one issuer: every method needs a valid token. */
export const authAgainst = (issuer: string) => ({
  auth: {
    issuers: [{ issuer, audiences: ["api://notes"] }],
    defaultPolicy: "authenticated",
  },
});
