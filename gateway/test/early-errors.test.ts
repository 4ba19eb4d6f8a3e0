// An error decided while the browser is still uploading reaches it as the
// gRPC-Web status, not as a connection reset: over HTTP/1.1 (a raw socket,
// Node's client), over HTTP/2, and in Chromium with fetch. The default
// limits apply (limits.maxMessageBytes 4 MiB) and a 5 MiB message is sent.
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type ClientHttp2Session, constants, connect as http2Connect } from "node:http2";
import { type AddressInfo, connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./support/chromium.ts";
import { startGateway, type TestGateway } from "./support/gateway.ts";
import { parseWebBody, postGrpcWeb } from "./support/http.ts";
import { grpcFrame, type RawCall, replyOk, startRawUpstream } from "./support/raw-upstream.ts";
import { gatewayConfig, type TestPki, testPki } from "./support/stack.ts";
import { waitFor } from "./support/wait.ts";

const ECHO = "/demo.notes.v1.NotesService/Echo";
const MiB = 1024 * 1024;
/** One 5 MiB message: its length prefix alone is over the default 4 MiB limit. */
const FIVE_MIB_MESSAGE = grpcFrame(new Uint8Array(5 * MiB));
const SMALL = grpcFrame(new Uint8Array([10, 1, 7]));

/** The status of a raw HTTP/1.1 response: from its headers (trailers-only) or its trailer frame. */
function statusOf(
  head: string,
  body: Buffer,
): { status: string | undefined; reason: string | undefined } {
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, "mi").exec(head)?.[1]?.trim();
  const trailers = parseWebBody(body).trailers;
  return {
    status: header("grpc-status") ?? trailers["grpc-status"],
    reason: header("grpc-edge-reason") ?? trailers["grpc-edge-reason"],
  };
}

/**
 * A keep-alive HTTP/1.1 connection driven by hand: requests written as
 * bytes, responses read by content-length (the gateway's replies have one).
 */
class RawConnection {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  closed = false;
  writeError: Error | undefined;

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
    });
  }

  /** Sends a call's head and as much of `body` as `send` says (all by default). */
  send(path: string, body: Buffer, send = body.length): Promise<void> {
    const head = `POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/grpc-web+proto\r\ncontent-length: ${body.length}\r\n\r\n`;
    this.socket.write(head);
    return new Promise((resolve) => {
      this.socket.write(body.subarray(0, send), (err) => {
        this.writeError = err ?? undefined;
        resolve();
      });
    });
  }

  /** The next whole response on the connection. */
  async response(): Promise<{ head: string; body: Buffer }> {
    let end = -1;
    let length = 0;
    await waitFor(() => {
      end = this.received.indexOf("\r\n\r\n");
      if (end === -1) return false;
      const head = this.received.subarray(0, end).toString("latin1");
      length = Number(/^content-length: (\d+)$/im.exec(head)?.[1] ?? 0);
      return this.received.length >= end + 4 + length;
    }, 15_000);
    const head = this.received.subarray(0, end).toString("latin1");
    const body = this.received.subarray(end + 4, end + 4 + length);
    this.received = this.received.subarray(end + 4 + length);
    return { head, body };
  }
}

describe("early errors reach the client while it is still uploading", () => {
  let pki: TestPki;
  let handler: (call: RawCall) => void;
  let upstream: Awaited<ReturnType<typeof startRawUpstream>>;
  let plain: TestGateway;
  let tls: TestGateway;
  let tight: TestGateway;
  let pageServer: Server;
  let origin: string;

  const echo = (call: RawCall) => {
    call.body().then((body) => replyOk(call.stream, body));
  };
  /** An upstream that refuses at once, without reading the request (as auth interceptors do). */
  const refuseAtOnce = (call: RawCall) =>
    call.stream.respond(
      {
        ":status": 200,
        "content-type": "application/grpc",
        "grpc-status": "7",
        "grpc-message": "not yours",
      },
      { endStream: true },
    );

  before(async () => {
    pki = await testPki();
    handler = echo;
    upstream = await startRawUpstream({
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      handle: (call) => handler(call),
    });
    pageServer = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>t</title>"),
    );
    await new Promise<void>((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
    origin = `http://localhost:${(pageServer.address() as AddressInfo).port}`;
    const cors = { allowedOrigins: [origin] };
    plain = await startGateway(gatewayConfig(pki, upstream.url, { cors }));
    tls = await startGateway(
      gatewayConfig(pki, upstream.url, {
        cors,
        listen: {
          host: "127.0.0.1",
          port: 0,
          tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile },
        },
      }),
    );
    tight = await startGateway(
      gatewayConfig(pki, upstream.url, {
        limits: { discardBodyMaxBytes: MiB, discardBodyTimeoutMs: 300 },
      }),
    );
  });
  after(async () => {
    await Promise.all([plain?.close(), tls?.close(), tight?.close()]);
    await upstream?.close();
    pageServer?.close();
  });

  it("HTTP/1.1, raw socket: 8 message_too_large and 12 unknown_service, then the connection serves the next call", async () => {
    handler = echo;
    const conn = new RawConnection(plain.port);
    try {
      for (const [path, status, reason] of [
        [ECHO, "8", "message_too_large"],
        ["/demo.missing.v1.Missing/Get", "12", "unknown_service"],
      ] as const) {
        const sent = conn.send(path, FIVE_MIB_MESSAGE);
        const res = await conn.response();
        await sent;
        assert.equal(conn.writeError, undefined, "the whole upload was taken");
        assert.match(res.head, /^HTTP\/1\.1 200 /);
        assert.deepEqual(statusOf(res.head, res.body), { status, reason });
      }
      await conn.send(ECHO, SMALL);
      const next = await conn.response();
      assert.equal(statusOf(next.head, next.body).status, "0");
      assert.equal(conn.closed, false);
    } finally {
      conn.socket.destroy();
    }
  });

  it("HTTP/1.1, Node's client: the status of an early error, and of an upstream that answers before the upload ends", async () => {
    handler = echo;
    const tooLarge = await postGrpcWeb(plain.url, ECHO, FIVE_MIB_MESSAGE);
    assert.equal(tooLarge.status, 200);
    assert.equal(tooLarge.headers["grpc-status"], "8");
    assert.equal(tooLarge.headers["grpc-edge-reason"], "message_too_large");
    // Under the limit, but the upstream refuses without reading: the
    // browser's body is discarded so that it gets to read the 7.
    handler = refuseAtOnce;
    const refused = await postGrpcWeb(plain.url, ECHO, grpcFrame(new Uint8Array(3 * MiB)));
    assert.equal(refused.headers["grpc-status"], "7");
    assert.equal(refused.headers["grpc-message"], "not yours");
    handler = echo;
    const next = await postGrpcWeb(plain.url, ECHO, SMALL);
    assert.equal(parseWebBody(next.body).trailers["grpc-status"], "0");
  });

  it("HTTP/2: answers, then resets only that stream (NO_ERROR); the connection serves the next call", async () => {
    handler = echo;
    const session = http2Connect(tls.url.replace("127.0.0.1", "localhost"), { ca: pki.ca });
    try {
      const body = grpcFrame(new Uint8Array(20 * MiB));
      const early = await uploadOverHttp2(session, body);
      assert.equal(early.headers["grpc-status"], "8");
      assert.equal(early.headers["grpc-edge-reason"], "message_too_large");
      assert.equal(early.rstCode, constants.NGHTTP2_NO_ERROR);
      assert.ok(early.offered < body.length, `the upload went on: ${early.offered} bytes`);
      const next = await uploadOverHttp2(session, SMALL);
      assert.equal(parseWebBody(next.body).trailers["grpc-status"], "0");
      assert.equal(session.closed, false);
    } finally {
      session.destroy();
    }
  });

  it("past limits.discardBodyMaxBytes or limits.discardBodyTimeoutMs, sends the status and closes the connection", async () => {
    handler = echo;
    // Bytes: 20 MiB more than the limit is more than the gateway reads.
    const flood = new RawConnection(tight.port);
    const body = grpcFrame(new Uint8Array(20 * MiB));
    void flood.send(ECHO, body);
    const res = await flood.response();
    assert.equal(statusOf(res.head, res.body).status, "8");
    await waitFor(() => flood.closed, 10_000);
    // Time: a client that stops sending halfway.
    const stalled = new RawConnection(tight.port);
    void stalled.send(ECHO, FIVE_MIB_MESSAGE, 64 * 1024);
    const stalledRes = await stalled.response();
    assert.equal(statusOf(stalledRes.head, stalledRes.body).status, "8");
    await waitFor(() => stalled.closed, 5_000);
    // Everyone else is still served.
    const next = await postGrpcWeb(tight.url, ECHO, SMALL);
    assert.equal(parseWebBody(next.body).trailers["grpc-status"], "0");
  });

  describe("in Chromium (fetch)", () => {
    let browser: Browser;
    let page: Page;
    /** The protocol Chromium used for each response, by URL (from the DevTools protocol). */
    const protocols = new Map<string, string>();

    before(async () => {
      // Trust exactly the gateway's test certificate, so that fetch can use HTTP/2.
      const spki = new X509Certificate(pki.serverCert).publicKey.export({
        type: "spki",
        format: "der",
      });
      const pin = createHash("sha256").update(spki).digest("base64");
      browser = await launchChromium([`--ignore-certificate-errors-spki-list=${pin}`]);
      page = await browser.newPage();
      const cdp = await page.context().newCDPSession(page);
      cdp.on("Network.responseReceived", ({ response }) => {
        if (response.protocol !== undefined) protocols.set(response.url, response.protocol);
      });
      await cdp.send("Network.enable");
      await page.goto(origin);
    });
    after(async () => {
      await browser?.close();
    });

    for (const [listener, gateway, protocol] of [
      ["HTTP/1.1", () => plain, "http/1.1"],
      ["HTTP/2", () => tls, "h2"],
    ] as const) {
      it(`${listener}: the page reads the status and grpc-edge-reason of a 5 MiB message, and of an upstream that answered first`, async () => {
        const url = `${gateway().url.replace("127.0.0.1", "localhost")}${ECHO}`;
        handler = echo;
        protocols.delete(url);
        const tooLarge = await fetchFromPage(page, url, 5 * MiB);
        assert.deepEqual(tooLarge, { status: 200, grpcStatus: "8", reason: "message_too_large" });
        assert.equal(protocols.get(url), protocol);
        handler = refuseAtOnce;
        const refused = await fetchFromPage(page, url, 3 * MiB);
        assert.equal(refused.grpcStatus, "7", JSON.stringify(refused));
        handler = echo;
        const next = await fetchFromPage(page, url, 3);
        assert.equal(next.status, 200, JSON.stringify(next));
      });
    }
  });
});

/** Uploads `body` on a new stream, with backpressure; resolves with what the client saw. */
function uploadOverHttp2(session: ClientHttp2Session, body: Buffer) {
  return new Promise<{
    headers: Record<string, unknown>;
    body: Buffer;
    rstCode: number | undefined;
    offered: number;
  }>((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": ECHO,
      "content-type": "application/grpc-web+proto",
    });
    let headers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let offered = 0;
    const pump = () => {
      while (offered < body.length) {
        const chunk = body.subarray(offered, offered + 64 * 1024);
        offered += chunk.length;
        if (!stream.write(chunk)) {
          stream.once("drain", pump);
          return;
        }
      }
      stream.end();
    };
    stream.on("response", (h) => {
      headers = h;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const result = { headers, body: Buffer.concat(chunks), rstCode: stream.rstCode, offered };
      // Node's client keeps a reset stream with unsent writes open: let it go.
      stream.destroy();
      resolve(result);
    });
    stream.on("error", reject);
    pump();
  });
}

/** A gRPC-Web call with fetch from the page; a message of `size` bytes. */
function fetchFromPage(page: Page, url: string, size: number) {
  return page.evaluate(
    async ({ url, size }) => {
      const body = new Uint8Array(5 + size);
      new DataView(body.buffer).setUint32(1, size);
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
          body,
        });
        await res.arrayBuffer();
        return {
          status: res.status,
          grpcStatus: res.headers.get("grpc-status"),
          reason: res.headers.get("grpc-edge-reason"),
        };
      } catch (err) {
        return { error: String(err) };
      }
    },
    { url, size },
  );
}
