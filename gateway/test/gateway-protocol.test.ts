// DESIGN.md's gRPC-Web checklist, case by case, with raw HTTP requests from
// the browser side and a scriptable HTTP/2 + mTLS upstream on the other.
import assert from "node:assert/strict";
import { request } from "node:http";
import { constants } from "node:http2";
import { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { startGateway, type TestGateway } from "./support/gateway.ts";
import { parseWebBody, postGrpcWeb } from "./support/http.ts";
import {
  grpcFrame,
  type RawCall,
  type RawUpstream,
  replyOk,
  respondOk,
  startRawUpstream,
} from "./support/raw-upstream.ts";
import { gatewayConfig, type TestPki, testPki } from "./support/stack.ts";
import { waitFor } from "./support/wait.ts";

const PATH = "/demo.notes.v1.NotesService/Echo";
const MESSAGE = grpcFrame(new Uint8Array([10, 3, 1, 2, 3]));

describe("gRPC-Web protocol cases", () => {
  let pki: TestPki;
  let upstream: RawUpstream;
  let gw: TestGateway;
  let handler: (call: RawCall) => void = () => {};

  before(async () => {
    pki = await testPki();
    upstream = await startRawUpstream({
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      handle: (call) => handler(call),
    });
    gw = await startGateway(
      gatewayConfig(pki, upstream.url, { limits: { maxMessageBytes: 1024, maxTimeoutMs: 300 } }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const okReply = (call: RawCall, body: Buffer = MESSAGE) =>
    replyOk(call.stream, body, { "x-trailer": "t" });

  it("answers a preflight with the gRPC-Web header sets, without auth or routing", async () => {
    const res = await fetch(`${gw.url}/any.Service/Method`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, x-grpc-web, grpc-timeout",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
    const allowed = res.headers.get("access-control-allow-headers") ?? "";
    for (const h of [
      "authorization",
      "dpop",
      "grpc-timeout",
      "x-grpc-web",
      "x-user-agent",
      "connect-protocol-version",
    ]) {
      assert.ok(allowed.split(/,\s*/).includes(h), h);
    }
    assert.equal(res.headers.get("access-control-max-age"), "600");
    const denied = await fetch(`${gw.url}/any.Service/Method`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(denied.headers.get("access-control-allow-origin"), null);
  });

  it("exposes the gRPC and auth response headers to allowed origins", async () => {
    handler = (call) => okReply(call);
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE, { origin: "http://localhost:5173" });
    const exposed = (res.headers["access-control-expose-headers"] ?? "").split(/,\s*/);
    for (const h of [
      "grpc-status",
      "grpc-message",
      "grpc-status-details-bin",
      "www-authenticate",
      "dpop-nonce",
    ]) {
      assert.ok(exposed.includes(h), h);
    }
  });

  it("answers 415 with CORS headers for a body that is not gRPC-Web", async () => {
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE, {
      "content-type": "application/json",
      origin: "http://localhost:5173",
    });
    assert.equal(res.status, 415);
    assert.equal(res.headers["access-control-allow-origin"], "http://localhost:5173");
    assert.equal(res.headers["grpc-edge-reason"], "unsupported_media_type");
  });

  it("relays a data frame and the trailer frame, binary", async () => {
    let seen: RawCall["headers"] | undefined;
    handler = (call) => {
      seen = call.headers;
      okReply(call);
    };
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE, {
      "content-length": String(MESSAGE.length),
    });
    assert.equal(seen?.te, "trailers");
    assert.equal(seen?.["content-type"], "application/grpc+proto");
    assert.equal(seen?.["content-length"], undefined);
    assert.equal(seen?.["grpc-accept-encoding"], "identity");
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/grpc-web+proto");
    const body = parseWebBody(res.body);
    assert.deepEqual(body.messages, [MESSAGE.subarray(5)]);
    assert.equal(body.trailers["grpc-status"], "0");
    assert.equal(body.trailers["x-trailer"], "t");
  });

  it("sends a unary reply in one write: content-length, not chunked", async () => {
    handler = (call) => okReply(call);
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE);
    assert.equal(res.status, 200);
    assert.equal(res.headers["transfer-encoding"], undefined);
    assert.equal(res.headers["content-length"], String(res.body.length));
    // The message frame, then the trailer frame, and nothing else.
    assert.deepEqual(res.body.subarray(0, MESSAGE.length), MESSAGE);
    const trailer = res.body.subarray(MESSAGE.length);
    assert.equal(trailer[0], 0x80);
    assert.equal(trailer.readUInt32BE(1), trailer.length - 5);
    assert.equal(parseWebBody(res.body).trailers["grpc-status"], "0");
  });

  it("streams each message as it arrives, not held until the stream ends", async () => {
    let sendRest: () => void = () => {};
    handler = (call) => {
      respondOk(call.stream);
      call.stream.write(MESSAGE);
      // The rest only once the browser side has seen the first message.
      sendRest = () => call.stream.end(MESSAGE);
    };
    const { status, headers, chunks } = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      chunks: Buffer[];
    }>((resolve, reject) => {
      const req = request(`${gw.url}${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto" },
      });
      const timer = setTimeout(() => reject(new Error("first message held back")), 3000);
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          if (chunks.length === 1) {
            clearTimeout(timer);
            sendRest();
          }
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, chunks }));
      });
      req.on("error", reject);
      req.end(MESSAGE);
    });
    assert.equal(status, 200);
    assert.equal(headers["transfer-encoding"], "chunked");
    assert.deepEqual(chunks[0], MESSAGE);
    const body = parseWebBody(Buffer.concat(chunks));
    assert.equal(body.messages.length, 2);
    assert.equal(body.trailers["grpc-status"], "0");
  });

  it("writes what one upstream burst delivers in one socket write, not one per DATA chunk", async () => {
    // 48 KiB in one upstream write: it reaches the gateway as several DATA
    // chunks (16 KiB TLS records), each its own 'data' event.
    const frames = Buffer.concat(
      Array.from({ length: 48 }, (_, i) => grpcFrame(Buffer.alloc(1019, i))),
    );
    let sendBurst: () => void = () => {};
    let finish: () => void = () => {};
    handler = (call) => {
      respondOk(call.stream);
      call.stream.write(MESSAGE);
      sendBurst = () => call.stream.write(frames);
      finish = () => call.stream.end();
    };
    // Count the gateway's socket writes to this browser connection.
    const proto = Socket.prototype as unknown as Record<
      "_write" | "_writev",
      (this: Socket, ...args: unknown[]) => unknown
    >;
    const original = { _write: proto._write, _writev: proto._writev };
    let writes = 0;
    let counting = false;
    for (const name of ["_write", "_writev"] as const) {
      proto[name] = function (this: Socket, ...args: unknown[]) {
        if (counting && this.localPort === gw.port) writes++;
        return original[name].apply(this, args);
      };
    }
    try {
      const received = await new Promise<number>((resolve, reject) => {
        const req = request(`${gw.url}${PATH}`, {
          method: "POST",
          headers: { "content-type": "application/grpc-web+proto" },
        });
        req.on("response", (res) => {
          let bytes = 0;
          res.on("data", (c: Buffer) => {
            bytes += c.length;
            if (bytes === MESSAGE.length) {
              counting = true;
              sendBurst();
            } else if (bytes === MESSAGE.length + frames.length) resolve(bytes);
          });
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(MESSAGE);
      });
      assert.equal(received, MESSAGE.length + frames.length);
      // One write per event-loop turn: the burst normally arrives in one
      // socket read (one write), at most two if the kernel splits it.
      // Without the cork it leaves in one write per DATA chunk (6 here).
      assert.ok(writes >= 1 && writes <= 2, `the burst left in ${writes} socket writes`);
    } finally {
      counting = false;
      finish();
      Object.assign(proto, original);
    }
  });

  it("grants upstreams 1 MiB stream windows and 256 KiB frames", async () => {
    let settings: import("node:http2").Settings | undefined;
    handler = (call) => {
      settings = call.stream.session?.remoteSettings;
      okReply(call);
    };
    await postGrpcWeb(gw.url, PATH, MESSAGE);
    assert.equal(settings?.initialWindowSize, 1024 * 1024);
    assert.equal(settings?.maxFrameSize, 256 * 1024);
  });

  it("gives a call from a disallowed origin no CORS grant, only vary: Origin", async () => {
    handler = (call) => okReply(call);
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE, { origin: "https://evil.example" });
    assert.equal(res.status, 200); // the server answers; the browser withholds it
    assert.equal(res.headers["access-control-allow-origin"], undefined);
    assert.equal(res.headers["access-control-expose-headers"], undefined);
    assert.equal(res.headers.vary, "Origin");
  });

  it("decodes grpc-web-text in, and base64s every chunk out, trailer frame included", async () => {
    let received: Buffer | undefined;
    handler = async (call) => {
      received = await call.body();
      okReply(call);
    };
    // Two frames encoded one by one: padding in the middle of the body.
    const text = Buffer.from(
      MESSAGE.toString("base64") + grpcFrame(new Uint8Array([1])).toString("base64"),
    );
    const res = await postGrpcWeb(gw.url, PATH, text, {
      "content-type": "application/grpc-web-text",
    });
    assert.deepEqual(received, Buffer.concat([MESSAGE, grpcFrame(new Uint8Array([1]))]));
    assert.equal(res.headers["content-type"], "application/grpc-web-text+proto");
    assert.match(res.body.toString("latin1"), /^[A-Za-z0-9+/=]+$/);
    const body = parseWebBody(res.body, true);
    assert.deepEqual(body.messages, [MESSAGE.subarray(5)]);
    assert.equal(body.trailers["grpc-status"], "0");
  });

  it("rejects invalid base64 cleanly", async () => {
    handler = (call) => okReply(call);
    const res = await postGrpcWeb(gw.url, PATH, Buffer.from("AAAA*AAA"), {
      "content-type": "application/grpc-web-text",
    });
    assert.equal(
      res.headers["grpc-edge-reason"] ?? parseWebBody(res.body, true).trailers["grpc-edge-reason"],
      "invalid_base64",
    );
  });

  it("keeps a trailers-only reply in the headers, with an empty body", async () => {
    handler = (call) =>
      call.stream.respond(
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": "7",
          "grpc-message": "denied",
        },
        { endStream: true },
      );
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE);
    assert.equal(res.headers["grpc-status"], "7");
    assert.equal(res.headers["grpc-message"], "denied");
    assert.equal(res.body.length, 0);
  });

  it("synthesizes 13 when the upstream ends without grpc-status", async () => {
    handler = (call) => {
      call.stream.respond({ ":status": 200, "content-type": "application/grpc" });
      call.stream.end(MESSAGE);
    };
    const body = parseWebBody((await postGrpcWeb(gw.url, PATH, MESSAGE)).body);
    assert.equal(body.trailers["grpc-status"], "13");
    assert.equal(body.trailers["grpc-edge-reason"], "upstream_missing_status");
  });

  it("maps non-gRPC upstream replies by HTTP status", async () => {
    for (const [http, grpc] of [
      [503, "14"],
      [404, "12"],
      [401, "16"],
      [500, "2"],
    ] as const) {
      handler = (call) => {
        call.stream.respond({ ":status": http, "content-type": "text/html" });
        call.stream.end("<html>oops</html>");
      };
      const res = await postGrpcWeb(gw.url, PATH, MESSAGE);
      assert.equal(res.status, 200);
      assert.equal(res.headers["grpc-status"], grpc, `HTTP ${http}`);
      assert.equal(res.headers["grpc-edge-reason"], "upstream_http_status");
    }
  });

  it("maps upstream resets: PROTOCOL_ERROR → 13, REFUSED_STREAM → 14, CANCEL → 1", async () => {
    for (const [rst, grpc] of [
      [constants.NGHTTP2_PROTOCOL_ERROR, "13"],
      [constants.NGHTTP2_REFUSED_STREAM, "14"],
      [constants.NGHTTP2_CANCEL, "1"],
    ] as const) {
      handler = (call) => call.stream.close(rst);
      const res = await postGrpcWeb(gw.url, PATH, MESSAGE);
      assert.equal(res.headers["grpc-status"], grpc, `RST ${rst}`);
    }
  });

  it("ends with a trailer frame when the upstream resets after headers", async () => {
    let reset: () => void = () => {};
    handler = (call) => {
      call.stream.respond({ ":status": 200, "content-type": "application/grpc" });
      call.stream.write(MESSAGE);
      reset = () => call.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    };
    // The upstream resets once the browser has the headers and the message.
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const req = request(`${gw.url}${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto" },
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          if (chunks.push(c) === 1) reset();
        });
        res.on("end", () => resolve(Buffer.concat(chunks)));
      });
      req.on("error", reject);
      req.end(MESSAGE);
    });
    const body = parseWebBody(raw);
    assert.deepEqual(body.messages, [MESSAGE.subarray(5)]);
    assert.equal(body.trailers["grpc-status"], "13");
  });

  it("refuses oversized messages both ways with 8 RESOURCE_EXHAUSTED", async () => {
    handler = (call) => okReply(call);
    const big = grpcFrame(new Uint8Array(2000));
    const res = await postGrpcWeb(gw.url, PATH, big);
    assert.equal(res.headers["grpc-status"] ?? parseWebBody(res.body).trailers["grpc-status"], "8");
    handler = (call) => okReply(call, big);
    const body = parseWebBody((await postGrpcWeb(gw.url, PATH, MESSAGE)).body);
    assert.equal(body.trailers["grpc-status"], "8");
  });

  it("rejects a body that ends inside a frame", async () => {
    handler = (call) => {
      call.body().then(() => okReply(call));
    };
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE.subarray(0, 7));
    const status = res.headers["grpc-status"] ?? parseWebBody(res.body).trailers["grpc-status"];
    assert.equal(status, "13");
  });

  it("caps grpc-timeout at limits.maxTimeoutMs and answers 4, cancelling upstream", async () => {
    const cancelsBefore = upstream.closedWithCode.length;
    let seenTimeout: string | undefined;
    handler = (call) => {
      seenTimeout = call.headers["grpc-timeout"] as string;
      call.stream.respond({ ":status": 200, "content-type": "application/grpc" }); // and never ends
    };
    const started = Date.now();
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE, { "grpc-timeout": "99H" });
    const elapsed = Date.now() - started;
    assert.equal(parseWebBody(res.body).trailers["grpc-status"], "4");
    assert.ok(elapsed >= 250, `took ${elapsed} ms`);
    assert.equal(seenTimeout, "300000u");
    await waitFor(() => upstream.closedWithCode.length > cancelsBefore);
    assert.equal(upstream.closedWithCode.at(-1), constants.NGHTTP2_CANCEL);
  });

  it("rejects a malformed grpc-timeout with 3", async () => {
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE, { "grpc-timeout": "soon" });
    assert.equal(res.headers["grpc-status"], "3");
  });

  it("answers 12 for an unknown service without contacting any upstream", async () => {
    const calls = upstream.calls.length;
    const res = await postGrpcWeb(gw.url, "/demo.missing.v1.Missing/Get", MESSAGE);
    assert.equal(res.headers["grpc-status"], "12");
    assert.equal(res.headers["grpc-edge-reason"], "unknown_service");
    assert.equal(upstream.calls.length, calls);
  });

  it("cancels the upstream stream as soon as the browser goes away", async () => {
    const cancelsBefore = upstream.closedWithCode.length;
    handler = (call) => {
      call.stream.respond({ ":status": 200, "content-type": "application/grpc" });
      call.stream.write(MESSAGE);
    };
    const controller = new AbortController();
    const pending = postGrpcWeb(gw.url, PATH, MESSAGE, {}, controller.signal).catch(
      () => undefined,
    );
    await waitFor(() => upstream.calls.length > 0 && gw.gateway.activeCalls() > 0);
    controller.abort();
    await pending;
    await waitFor(() => upstream.closedWithCode.length > cancelsBefore);
    assert.equal(upstream.closedWithCode.at(-1), constants.NGHTTP2_CANCEL);
  });

  it("shares one upstream session across many concurrent calls", async () => {
    handler = (call) => okReply(call);
    const sessionsBefore = upstream.sessions();
    await Promise.all(Array.from({ length: 50 }, () => postGrpcWeb(gw.url, PATH, MESSAGE)));
    assert.ok(upstream.sessions() - sessionsBefore <= 1);
  });
});
