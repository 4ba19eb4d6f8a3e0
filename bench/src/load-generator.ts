/**
 * The load generator, one child process per run: `concurrency` callers in a
 * closed loop for `seconds`, over HTTP/1.1 (gRPC-Web, keep-alive) or HTTP/2
 * (native gRPC to the upstream with the gateway's client certificate, or
 * gRPC-Web to the gateway's TLS listener). Every response is checked for
 * grpc-status 0 (header or trailer frame); anything else counts as an error.
 * The same generator drives every target so that ratios compare like with like.
 */
import { createHash, createPrivateKey, type KeyObject, randomUUID, sign } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";
import { type ClientHttp2Session, connect } from "node:http2";

export interface LoadSpec {
  readonly protocol: "h1" | "h2";
  readonly url: string;
  readonly path: string;
  readonly contentType: string;
  /** The request body as sent (already base64 for grpc-web-text). */
  readonly body: string; // base64 of the bytes, to cross IPC
  readonly concurrency: number;
  readonly seconds: number;
  /** Response body is base64 text (grpc-web-text). */
  readonly textResponse: boolean;
  /** Native gRPC: status in HTTP trailers (HTTP/2, or chunked HTTP/1.1), not a trailer frame. */
  readonly nativeGrpc: boolean;
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
  /** The Node generator even where wrk could drive the target (like-for-like with direct). */
  readonly generator?: "node";
  /** Extra request headers (authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A DPoP-bound token: `authorization: DPoP` and a fresh ES256 proof per request, as a browser sends them. */
  readonly dpop?: {
    readonly accessToken: string;
    readonly privateJwk: Readonly<Record<string, string>>;
    readonly publicJwk: Readonly<Record<string, string>>;
  };
}

/** Per-request DPoP headers (RFC 9449 §4.2), signed with node:crypto so the generator stays light. */
function dpopHeaders(spec: LoadSpec): (() => Record<string, string>) | undefined {
  const dpop = spec.dpop;
  if (dpop === undefined) return undefined;
  const key: KeyObject = createPrivateKey({ key: dpop.privateJwk, format: "jwk" });
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = b64({ alg: "ES256", typ: "dpop+jwt", jwk: dpop.publicJwk });
  const ath = createHash("sha256").update(dpop.accessToken).digest("base64url");
  const htu = `${spec.url}${spec.path}`;
  return () => {
    const input = `${header}.${b64({ jti: randomUUID(), htm: "POST", htu, iat: Math.floor(Date.now() / 1000), ath })}`;
    const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    return {
      authorization: `DPoP ${dpop.accessToken}`,
      dpop: `${input}.${signature.toString("base64url")}`,
    };
  };
}

export interface LoadResult {
  readonly calls: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bytes: number;
  readonly firstError?: string;
}

function statusOk(body: Buffer, textResponse: boolean, headerStatus: string | undefined): boolean {
  if (headerStatus !== undefined) return headerStatus === "0";
  // grpc-web-text: each chunk is base64 on its own, padded; decode piece by piece.
  const raw = textResponse
    ? Buffer.concat(
        (body.toString("latin1").match(/[^=]+=*/g) ?? []).map((p) => Buffer.from(p, "base64")),
      )
    : body;
  const tail = raw.toString("latin1", Math.max(0, raw.length - 200));
  return tail.includes("grpc-status: 0") || tail.includes("grpc-status:0");
}

/**
 * A response body as the generator needs it: its length, and enough of its
 * end to find the trailer frame. Binary bodies keep only their last chunks
 * (a 6 MB stream is not copied once more, so the generator does not take
 * the cores it is measuring); grpc-web-text keeps everything to decode it.
 */
class BodySink {
  bytes = 0;
  private chunks: Buffer[] = [];
  private kept = 0;
  private readonly whole: boolean;
  constructor(whole: boolean) {
    this.whole = whole;
  }
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    if (this.whole) return;
    // Drop leading chunks while what stays still covers the last 200 bytes.
    while (this.chunks.length > 1 && this.kept - (this.chunks[0] as Buffer).length >= 200) {
      this.kept -= (this.chunks.shift() as Buffer).length;
    }
  }
  tail(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
  }
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const body = Buffer.from(spec.body, "base64");
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const deadline = performance.now() + spec.seconds * 1000;
  const fail = (why: string) => {
    errors++;
    firstError ??= why;
  };

  let call: () => Promise<void>;
  const sessions: ClientHttp2Session[] = [];
  const proof = dpopHeaders(spec);
  if (spec.protocol === "h1") {
    const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
    call = () =>
      new Promise<void>((resolve) => {
        const req = httpRequest(`${spec.url}${spec.path}`, {
          method: "POST",
          agent,
          headers: {
            ...spec.headers,
            ...proof?.(),
            "content-type": spec.contentType,
            // Native gRPC over HTTP/1.1 (the nghttpx reference): status in chunked trailers.
            ...(spec.nativeGrpc ? { te: "trailers" } : { "x-grpc-web": "1" }),
            "content-length": body.length,
          },
        });
        req.on("response", (res) => {
          const sink = new BodySink(spec.textResponse);
          res.on("data", (c: Buffer) => sink.push(c));
          res.on("end", () => {
            bytes += sink.bytes;
            const status = (res.headers["grpc-status"] ?? res.trailers["grpc-status"]) as
              | string
              | undefined;
            if (
              res.statusCode !== 200 ||
              (spec.nativeGrpc ? status !== "0" : !statusOk(sink.tail(), spec.textResponse, status))
            ) {
              fail(`HTTP ${res.statusCode} grpc-status ${String(status)}`);
            }
            resolve();
          });
        });
        req.on("error", (e) => {
          fail(e.message);
          resolve();
        });
        req.end(body);
      });
  } else {
    const sessionCount = Math.max(1, Math.ceil(spec.concurrency / 100));
    for (let i = 0; i < sessionCount; i++) {
      // Flow-control windows as Chrome advertises them (6 MiB per stream,
      // 15 MiB per connection), for direct calls and the gateway alike:
      // Node's 64 KiB defaults would make every target wait on WINDOW_UPDATEs.
      const session = connect(spec.url, {
        ca: spec.tls?.ca,
        cert: spec.tls?.cert,
        key: spec.tls?.key,
        servername: "localhost",
        settings: { initialWindowSize: 6 * 2 ** 20 },
      });
      session.once("connect", () => session.setLocalWindowSize(15 * 2 ** 20));
      sessions.push(session);
    }
    let next = 0;
    call = () =>
      new Promise<void>((resolve) => {
        const session = sessions[next++ % sessions.length] as ClientHttp2Session;
        const headers: Record<string, string> = {
          ...spec.headers,
          ...proof?.(),
          ":method": "POST",
          ":path": spec.path,
          "content-type": spec.contentType,
        };
        if (spec.nativeGrpc) headers.te = "trailers";
        const stream = session.request(headers);
        const sink = new BodySink(spec.textResponse);
        let status: string | undefined;
        stream.on("response", (h) => {
          if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
        });
        stream.on("trailers", (t) => {
          status = String(t["grpc-status"]);
        });
        stream.on("data", (c: Buffer) => sink.push(c));
        stream.on("end", () => {
          bytes += sink.bytes;
          if (!statusOk(sink.tail(), spec.textResponse, status)) {
            fail(`grpc-status ${String(status)}`);
          }
          resolve();
        });
        stream.on("error", (e) => {
          fail(e.message);
          resolve();
        });
        stream.end(body);
      });
  }

  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await call();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of sessions) s.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    calls: latencies.length,
    errors,
    seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    bytes,
    ...(firstError ? { firstError } : {}),
  };
}

// As a child process: receive one spec, run it, send the result back.
if (process.send !== undefined) {
  process.once("message", (spec: LoadSpec) => {
    runLoad(spec).then((result) => {
      process.send?.(result, () => process.exit(0));
    });
  });
}
