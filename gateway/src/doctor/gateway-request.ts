/**
 * Requests to a running gateway (`--gateway`) over HTTP/1.1 as a browser
 * sends them, and what a failure to reach it means: nothing listening, the
 * wrong scheme (TLS against a plaintext listener or the reverse), or a
 * certificate this machine does not accept.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { FLAG_TRAILER } from "../grpc-web/frame-scanner.ts";
import { decodeGrpcMessage } from "../grpc-web/grpc-status.ts";
import { parseTrailerBlock } from "../grpc-web/trailer-frame.ts";

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RequestOptions {
  readonly method: "POST" | "OPTIONS";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly timeoutMs: number;
}

/** One request; rejects with the platform's error when the gateway cannot be reached. */
export function send(url: URL, options: RequestOptions): Promise<Answer> {
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method,
      headers: options.headers,
      timeout: options.timeoutMs,
    });
    req.on("timeout", () =>
      req.destroy(
        Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: "ETIMEDOUT" }),
      ),
    );
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.end(options.body);
  });
}

/** The status a gRPC-Web answer carries: in its headers (trailers-only) or its trailer frame. */
export interface GrpcOutcome {
  readonly grpcStatus: string | undefined;
  readonly message: string;
  readonly reason: string | undefined;
  readonly wwwAuthenticate: string | undefined;
}

export function grpcOutcome(answer: Answer): GrpcOutcome {
  let fields: Record<string, string | string[] | undefined> = answer.headers;
  let at = 0;
  while (fields["grpc-status"] === undefined && at + 5 <= answer.body.length) {
    const length = answer.body.readUInt32BE(at + 1);
    if (((answer.body[at] as number) & FLAG_TRAILER) !== 0) {
      fields = {
        ...answer.headers,
        ...parseTrailerBlock(answer.body.subarray(at + 5, at + 5 + length)),
      };
    }
    at += 5 + length;
  }
  const one = (name: string) => {
    const value = fields[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    grpcStatus: one("grpc-status"),
    message: decodeGrpcMessage(one("grpc-message") ?? ""),
    reason: one("grpc-edge-reason"),
    wwwAuthenticate: one("www-authenticate"),
  };
}

const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
]);

/** What a failure to reach the gateway at `url` means, and the fix. */
export async function unreachable(
  url: URL,
  err: unknown,
  timeoutMs: number,
): Promise<{ readonly detail: string; readonly fix: string }> {
  const code = String((err as { code?: unknown }).code ?? "");
  const message = (err as Error).message;
  const where = url.host;
  if (code === "ECONNREFUSED")
    return {
      detail: `nothing listens at ${where}`,
      fix: "start the gateway, or correct --gateway",
    };
  // node:https reports OpenSSL's record-layer errors as EPROTO with the words only.
  if (
    /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG)$/.test(code) ||
    /wrong version number|packet length too long/.test(message)
  ) {
    return {
      detail: `${where} answered a TLS handshake in plaintext: the gateway listens without TLS (listen.tls is not set)`,
      fix: `use http://${where}, or configure listen.tls`,
    };
  }
  if (UNTRUSTED.has(code)) {
    return {
      detail: `this machine does not trust the gateway's certificate (${code})`,
      fix: "run doctor with NODE_EXTRA_CA_CERTS=<the CA file that issued listen.tls.certFile>, as browsers need that CA installed too",
    };
  }
  if (
    code === "ERR_TLS_CERT_ALTNAME_INVALID" ||
    code === "CERT_HAS_EXPIRED" ||
    code === "CERT_NOT_YET_VALID"
  ) {
    return {
      detail: `the gateway's certificate is refused: ${message}`,
      fix: "see the listener certificate checks of step 1",
    };
  }
  if (url.protocol === "http:" && (code === "ECONNRESET" || message === "socket hang up")) {
    if (await speaksTls(url, timeoutMs)) {
      return {
        detail: `${where} closed a plaintext request: the gateway listens with TLS (listen.tls is set)`,
        fix: `use https://${where}`,
      };
    }
  }
  return {
    detail: `cannot reach ${where}: ${message}${code === "" ? "" : ` (${code})`}`,
    fix: "check --gateway and that the gateway runs",
  };
}

/** Whether something at the URL's address answers a TLS handshake (trusted or not). */
function speaksTls(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 80),
      ALPNProtocols: ["http/1.1"],
      timeout: timeoutMs,
    });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once("secureConnect", () => done(true));
    socket.once("timeout", () => done(false));
    // A certificate this machine does not accept still proves the port speaks TLS.
    socket.once("error", (err) => {
      const code = String((err as { code?: unknown }).code ?? "");
      done(UNTRUSTED.has(code) || /^(CERT_|ERR_TLS_CERT_|ERR_SSL_.*ALERT)/.test(code));
    });
  });
}
