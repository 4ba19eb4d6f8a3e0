/**
 * OpenSSL's own TLS server (`openssl s_server`), for upstreams that behave
 * like Envoy, nginx or Go: they check the client certificate inside the
 * handshake and answer a rejection with a TLS alert, which servers on Node
 * never send. It speaks no HTTP/2; the alert comes before any frame would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { waitFor } from "./wait.ts";

export interface OpensslServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface OpensslServerOptions {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA file the client certificate must chain to; a client without one is refused. */
  readonly clientCaFile: string;
  /** Signature algorithms accepted for the client's CertificateVerify (e.g. RSA only). */
  readonly clientSigalgs?: string;
}

export async function startOpensslServer(options: OpensslServerOptions): Promise<OpensslServer> {
  const args = [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    options.certFile,
    "-key",
    options.keyFile,
    "-CAfile",
    options.clientCaFile,
    "-Verify",
    "1",
    "-verify_return_error",
    "-alpn",
    "h2",
    ...(options.clientSigalgs === undefined ? [] : ["-client_sigalgs", options.clientSigalgs]),
  ];
  const child: ChildProcess = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitFor(() => /ACCEPT [\d.]+:\d+/.test(output) || child.exitCode !== null, 10_000);
  const port = /ACCEPT [\d.]+:(\d+)/.exec(output)?.[1];
  if (port === undefined) throw new Error(`openssl s_server did not start:\n${output}`);
  return {
    url: `https://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode === null) child.kill();
      await exited;
    },
  };
}
