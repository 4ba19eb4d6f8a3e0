/**
 * HTTP/1.1 gRPC-Web load from wrk (Debian's package; C, so it leaves more of
 * the two cores to the gateway than the Node generator does) with
 * bench/wrk/grpc-web.lua, which checks grpc-status in every response's
 * trailer frame. Returns the same LoadResult as the Node generator.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianTool } from "./debian-tool.ts";
import type { LoadResult, LoadSpec } from "./load-generator.ts";

const script = new URL("../wrk/grpc-web.lua", import.meta.url).pathname;

/** True when wrk is on PATH; installs Debian's package when root can. */
export function ensureWrk(): boolean {
  // wrk --version exits 1 after printing its version.
  return ensureDebianTool("wrk", "wrk", ["--version"], [0, 1]);
}

export function runWrk(spec: LoadSpec): Promise<LoadResult> {
  if (spec.protocol !== "h1" || spec.tls !== undefined) {
    throw new Error("wrk drives plain HTTP/1.1 targets only");
  }
  const dir = mkdtempSync(join(tmpdir(), "grpc-edge-wrk-"));
  const bodyFile = join(dir, "body");
  writeFileSync(bodyFile, Buffer.from(spec.body, "base64"));
  const args = [
    "--threads",
    "1",
    "--connections",
    String(spec.concurrency),
    "--duration",
    `${spec.seconds}s`,
    "--timeout",
    "5s",
    "--script",
    script,
    `${spec.url}${spec.path}`,
  ];
  const env = {
    ...process.env,
    GRPC_WEB_BODY_FILE: bodyFile,
    GRPC_WEB_PATH: spec.path,
    GRPC_WEB_CONTENT_TYPE: spec.contentType,
    GRPC_WEB_AUTHORIZATION: spec.headers?.authorization ?? "",
  };
  return new Promise((resolve, reject) => {
    execFile("wrk", args, { env }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${stderr || err.message}`));
      const line = stdout.split("\n").find((l) => l.startsWith('{"requests"'));
      if (line === undefined) return reject(new Error(`wrk printed no summary:\n${stdout}`));
      const r = JSON.parse(line) as {
        requests: number;
        ok: number;
        failed: number;
        socketErrors: number;
        durationUs: number;
        bodyBytes: number;
        p50Us: number;
        p99Us: number;
        firstFailure: string;
      };
      const errors = r.failed + r.socketErrors + (r.requests - r.ok - r.failed);
      resolve({
        calls: r.ok + r.failed,
        errors,
        seconds: r.durationUs / 1e6,
        p50Ms: r.p50Us / 1000,
        p99Ms: r.p99Us / 1000,
        bytes: r.bodyBytes,
        ...(r.firstFailure !== "" ? { firstError: r.firstFailure } : {}),
      });
    });
  });
}
