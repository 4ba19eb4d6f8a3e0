// Each token cause, end to end: real tokens from a real OpenID provider,
// broken on purpose, sent by connect-web through the gateway to the real
// upstream. The client sees the status and reason; the access log line and
// /metrics say the same. And what the gateway can and cannot see of an
// `Authorization` header spelled with a capital letter.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { RunningUpstream } from "@grpc-edge/example-upstream";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { type BrokenToken, brokenTokens, type TokenCause } from "./support/broken-tokens.ts";
import { callLines, startGateway, type TestGateway } from "./support/gateway.ts";
import { parseWebBody, postGrpcWeb } from "./support/http.ts";
import { startOidcProvider, type TestOidcProvider } from "./support/oidc-provider.ts";
import { gatewayConfig, type Stack, startStack, startUpstream, testPki } from "./support/stack.ts";

const NOTES = "/demo.notes.v1.NotesService";

describe("token causes through the gateway", () => {
  let idp: TestOidcProvider;
  let other: TestOidcProvider;
  let stack: Stack;
  let tokens: Record<TokenCause, BrokenToken>;

  before(async () => {
    [idp, other] = await Promise.all([startOidcProvider(), startOidcProvider()]);
    stack = await startStack({
      impl: "connect-node",
      gateway: {
        auth: {
          issuers: [
            {
              issuer: idp.issuer,
              audiences: [idp.resource],
              algorithms: ["ES256"],
              tokenType: "at+jwt",
            },
          ],
          rules: [
            { methods: [`${NOTES}/DeleteNote`], scopes: ["notes:admin"] },
            { methods: [`${NOTES}/*`], policy: "authenticated" },
          ],
        },
      },
    });
    tokens = await brokenTokens(idp, other, Date.now());
  });
  after(async () => {
    await stack?.close();
    await Promise.all([idp?.close(), other?.close()]);
  });

  const notes = () =>
    createClient(NotesService, createGrpcWebTransport({ baseUrl: stack.gateway.url }));
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  /** The ConnectError a call fails with. */
  async function failure(call: () => Promise<unknown>): Promise<ConnectError> {
    try {
      await call();
    } catch (err) {
      assert.ok(err instanceof ConnectError, String(err));
      return err;
    }
    assert.fail("the call succeeded");
  }

  async function assertRefused(err: ConnectError, code: Code, reason: string) {
    assert.equal(err.code, code, err.message);
    assert.equal(err.metadata.get("grpc-edge-reason"), reason);
    assert.equal(callLines(stack.gateway.logs).at(-1)?.reason, reason);
    const metrics = await stack.gateway.gateway.metrics.metrics();
    assert.match(
      metrics,
      new RegExp(`grpc_edge_auth_failures_total\\{reason="${reason}"\\} [1-9]`),
    );
  }

  const described: Record<TokenCause, string> = {
    expired: "an expired token",
    not_yet_valid: "a token whose nbf is ahead",
    clock_ahead: "a token from an IdP whose clock runs 5 minutes ahead",
    wrong_audience: "a token for another audience",
    wrong_issuer: "a token from an issuer the gateway does not trust",
    unknown_kid: "a token signed by a key the IdP does not publish",
    bad_signature: "a token whose payload was altered",
    algorithm: "an RS256 token where only ES256 is allowed",
  };
  for (const cause of Object.keys(described) as TokenCause[]) {
    it(`${described[cause]} → 16 with its own reason`, async () => {
      const { token, reason } = tokens[cause];
      const err = await failure(() => notes().getNote({ id: "n1" }, bearer(token)));
      await assertRefused(err, Code.Unauthenticated, reason);
    });
  }

  it("a token without the method's scope → 7 insufficient_scope", async () => {
    const token = await idp.mintAccessToken({ scope: "notes:read" });
    const err = await failure(() => notes().deleteNote({ id: "n1" }, bearer(token)));
    await assertRefused(err, Code.PermissionDenied, "insufficient_scope");
  });

  it("a client library that drops non-lowercase keys sends no token → 16 missing_token", async () => {
    const err = await failure(() => notes().getNote({ id: "n1" }));
    await assertRefused(err, Code.Unauthenticated, "missing_token");
  });

  it("`Authorization` with a capital letter over HTTP/1.1 is the same header (names are case-insensitive)", async () => {
    const token = await idp.mintAccessToken({ scope: "notes:read" });
    const res = await postGrpcWeb(stack.gateway.url, `${NOTES}/EchoMetadata`, new Uint8Array(5), {
      Authorization: `Bearer ${token}`,
    });
    assert.equal(parseWebBody(res.body).trailers["grpc-status"], "0");
  });
});

describe("`Authorization` with a capital letter over HTTP/2", () => {
  let upstream: RunningUpstream;
  let gw: TestGateway;

  before(async () => {
    const pki = await testPki();
    upstream = await startUpstream("connect-node", pki);
    gw = await startGateway(
      gatewayConfig(pki, upstream.url, {
        listen: {
          host: "127.0.0.1",
          port: 0,
          tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile },
        },
      }),
    );
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("is a malformed request (RFC 9113 §8.2.1): the HTTP/2 layer resets the stream before the gateway sees it", async () => {
    const rstCode = await sendHeadersOverHttp2(gw.port, (await testPki()).ca, [
      [":method", "POST"],
      [":scheme", "https"],
      [":path", `${NOTES}/EchoMetadata`],
      [":authority", "localhost"],
      ["content-type", "application/grpc-web+proto"],
      ["Authorization", "Bearer x"],
    ]);
    assert.equal(rstCode, 1, "RST_STREAM PROTOCOL_ERROR");
    assert.deepEqual(callLines(gw.logs), [], "no call reached the gateway");
  });
});

/**
 * Sends one HEADERS frame with exactly these header names (Node's own HTTP/2
 * client lowercases them) and resolves with the RST_STREAM code it gets.
 */
async function sendHeadersOverHttp2(
  port: number,
  ca: string,
  headers: ReadonlyArray<readonly [string, string]>,
): Promise<number> {
  const socket = tlsConnect({
    host: "127.0.0.1",
    port,
    ca,
    servername: "localhost",
    ALPNProtocols: ["h2"],
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  // HPACK literal header fields without indexing, new name, no Huffman (RFC 7541 §6.2.2).
  const literal = ([name, value]: readonly [string, string]) =>
    Buffer.concat([
      Buffer.from([0x00, name.length]),
      Buffer.from(name),
      Buffer.from([value.length]),
      Buffer.from(value),
    ]);
  const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    return Buffer.concat([head, payload]);
  };
  const END_STREAM_AND_HEADERS = 0x1 | 0x4;
  socket.write(
    Buffer.concat([
      Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
      frame(0x4, 0, 0, Buffer.alloc(0)),
      frame(0x1, END_STREAM_AND_HEADERS, 1, Buffer.concat(headers.map(literal))),
    ]),
  );
  return new Promise<number>((resolve, reject) => {
    let received = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 9) {
        const length = received.readUIntBE(0, 3);
        if (received.length < 9 + length) return;
        const type = received[3];
        const payload = received.subarray(9, 9 + length);
        received = received.subarray(9 + length);
        if (type === 0x3) {
          socket.destroy();
          resolve(payload.readUInt32BE(0));
          return;
        }
      }
    });
    socket.once("close", () => reject(new Error("connection closed without RST_STREAM")));
  });
}
