/**
 * A C reference for streaming: nghttpx (nghttp2's reverse proxy, Debian's
 * nghttp2-proxy package) relaying plain HTTP/1.1 to the same upstream over
 * HTTP/2 + mTLS with the gateway's client certificate and upstream windows
 * (1 MiB per stream, 32 MiB per connection). It does not speak gRPC-Web:
 * the client sends native gRPC over HTTP/1.1 and gets the upstream's frames
 * with grpc-status in chunked trailers, so it moves the same bytes through
 * the same two protocols with none of the translation. One process, one
 * worker thread (--single-process), so /proc/<pid> holds all its CPU.
 */
import { spawn } from "node:child_process";
import type { DevPki } from "@grpc-edge/example-upstream";
import { type Child, freePort, runningChild } from "./children.ts";
import { ensureDebianTool } from "./debian-tool.ts";

/** True when nghttpx is on PATH; installs Debian's nghttp2-proxy when root can. */
export const ensureNghttpx = (): boolean => ensureDebianTool("nghttpx", "nghttp2-proxy");

export async function startNghttpx(upstreamUrl: string, pki: DevPki): Promise<Child> {
  const port = await freePort(); // nghttpx cannot report a port it picked itself
  const upstream = new URL(upstreamUrl);
  const child = spawn(
    "nghttpx",
    [
      "--conf=/dev/null",
      "--single-process",
      "--workers=1",
      `--frontend=127.0.0.1,${port};no-tls`,
      `--backend=${upstream.hostname},${upstream.port};;proto=h2;tls;sni=localhost`,
      `--cacert=${pki.caFile}`,
      `--client-cert-file=${pki.clientCertFile}`,
      `--client-private-key-file=${pki.clientKeyFile}`,
      "--backend-http2-window-size=1048576",
      "--backend-http2-connection-window-size=33554432",
      "--no-ocsp",
      "--no-via",
      "--accesslog-file=/dev/null",
      "--errorlog-file=/dev/stderr",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (!log.includes(`Listening on 127.0.0.1:${port}`)) return;
      child.stderr.off("data", onData);
      child.stderr.resume(); // keep draining: warnings must not block it
      child.removeAllListeners("exit");
      resolve(runningChild(child, port));
    };
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`nghttpx exited with ${code}:\n${log}`)));
  });
}
