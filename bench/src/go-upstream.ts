/**
 * The Go upstream (bench/go-upstream/main.go, grpc-go over HTTP/2 + mTLS):
 * built on first use with Debian's Go and grpc-go packages (GOPATH mode, no
 * module download), and started like the Node echo upstream (children.ts).
 * Reference figures for gRPC-Web proxies are usually taken against a Go
 * upstream; `--upstream go` measures the gateway the same way.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ensureDebianTool } from "./debian-tool.ts";

const source = new URL("../go-upstream/", import.meta.url).pathname;
const GRPC_GO = "/usr/share/gocode/src/google.golang.org/grpc";

/** Builds the Go upstream into `outDir` when missing or older than its source; returns its path. */
export function buildGoUpstream(outDir: string): string {
  const binary = join(outDir, "go-upstream");
  const main = join(source, "main.go");
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(main).mtimeMs) return binary;
  // Debian's golang-google-grpc-dev brings grpc-go and what it imports as source.
  const haveGo = ensureDebianTool("go", "golang-go", ["version"]);
  const haveGrpc = ensureDebianTool("test", "golang-google-grpc-dev", ["-d", GRPC_GO]);
  if (!haveGo || !haveGrpc) {
    throw new Error(
      "the Go upstream needs Go and grpc-go from Debian: apt-get install golang-go golang-google-grpc-dev",
    );
  }
  mkdirSync(outDir, { recursive: true });
  execFileSync("go", ["build", "-o", binary, "."], {
    cwd: source,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      GO111MODULE: "off",
      GOPATH: "/usr/share/gocode",
      GOCACHE: join(outDir, "go-cache"),
      GOFLAGS: "",
    },
  });
  return binary;
}

/** Starts the Go upstream with the dev PKI's CA and server certificate; resolves once it listens. */
export function spawnGoUpstream(
  binary: string,
  pki: { caFile: string; serverCertFile: string; serverKeyFile: string },
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(binary, [pki.caFile, pki.serverCertFile, pki.serverKeyFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`go-upstream exited with ${code} before listening`)),
    );
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /port (\d+)/.exec(out);
      if (match === null) return;
      child.removeAllListeners("exit");
      child.stdout.removeAllListeners("data");
      child.stdout.resume();
      resolve({ child, port: Number(match[1]) });
    });
  });
}
