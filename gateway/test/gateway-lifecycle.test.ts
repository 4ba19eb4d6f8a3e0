// Running the gateway over time: readiness, upstream restarts, certificate
// renewal without restart, HTTP/2 + TLS listener, graceful shutdown.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { issueCertificate, loadCertificateAuthority } from "@grpc-edge/example-upstream";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { startGateway } from "./support/gateway.ts";
import { parseWebBody } from "./support/http.ts";
import { gatewayConfig, startStack, startUpstream, testPki } from "./support/stack.ts";
import { waitFor } from "./support/wait.ts";

const ECHO = "/demo.notes.v1.NotesService/Echo";

describe("readiness and upstream restarts", () => {
  it("/healthz is 200; /readyz follows the upstream's health over mTLS", async () => {
    const stack = await startStack({ impl: "connect-node" });
    try {
      assert.equal((await fetch(`${stack.gateway.url}/healthz`)).status, 200);
      const ready = await fetch(`${stack.gateway.url}/readyz`);
      assert.equal(ready.status, 200);
      stack.upstream.health.setServing("", false);
      // Readiness is cached for a second: wait for the next check.
      let notReady = ready;
      await waitFor(async () => {
        const res = await fetch(`${stack.gateway.url}/readyz`);
        if (res.status === 503) notReady = res;
        else await res.arrayBuffer();
        return res.status === 503;
      });
      const body = (await notReady.json()) as {
        upstreams: Array<{ upstream: string; ready: boolean; reason: string }>;
      };
      assert.equal(body.upstreams[0]?.ready, false);
      assert.match(body.upstreams[0]?.reason ?? "", /NOT_SERVING/);
    } finally {
      await stack.close();
    }
  });

  it("answers 14 while the upstream is down and reconnects after it restarts", async () => {
    const pki = await testPki();
    let upstream = await startUpstream("grpc-js", pki);
    const port = upstream.port;
    const gw = await startGateway(gatewayConfig(pki, upstream.url));
    const client = createClient(NotesService, createGrpcWebTransport({ baseUrl: gw.url }));
    try {
      await client.echo({ payload: new Uint8Array([1]) });
      await upstream.close();
      await assert.rejects(
        client.echo({ payload: new Uint8Array([1]) }),
        (e: unknown) => e instanceof ConnectError && e.code === Code.Unavailable,
      );
      const ready = await fetch(`${gw.url}/readyz`);
      assert.equal(ready.status, 503);
      upstream = await startUpstream("grpc-js", pki, port);
      const reply = await client.echo({ payload: new Uint8Array([2]) });
      assert.deepEqual([...reply.payload], [2]);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe("HTTP/2 and TLS listener", () => {
  it("serves gRPC-Web over HTTP/2 (ALPN h2) and HTTP/1.1 on the same TLS port", async () => {
    const pki = await testPki();
    const stack = await startStack({
      impl: "connect-node",
      gateway: {
        listen: {
          host: "127.0.0.1",
          port: 0,
          tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile },
        },
      },
    });
    try {
      const url = stack.gateway.url.replace("127.0.0.1", "localhost");
      // HTTP/2
      const session = http2Connect(url, { ca: pki.ca });
      const h2 = await new Promise<{
        status: number;
        body: Buffer;
        alpn: string | false | undefined;
      }>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": ECHO,
          "content-type": "application/grpc-web+proto",
        });
        const chunks: Buffer[] = [];
        let status = 0;
        req.on("response", (h) => {
          status = Number(h[":status"]);
        });
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () =>
          resolve({ status, body: Buffer.concat(chunks), alpn: session.alpnProtocol }),
        );
        req.on("error", reject);
        req.end(Buffer.from([0, 0, 0, 0, 3, 10, 1, 9]));
      });
      session.close();
      assert.equal(h2.alpn, "h2");
      assert.equal(h2.status, 200);
      const parsed = parseWebBody(h2.body);
      assert.equal(parsed.trailers["grpc-status"], "0");
      assert.deepEqual([...(parsed.messages[0] ?? [])], [10, 1, 9]);
      // HTTP/1.1 over TLS
      const h1 = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const req = httpsRequest(
          `${url}${ECHO}`,
          { method: "POST", ca: pki.ca, headers: { "content-type": "application/grpc-web+proto" } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on("error", reject);
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      assert.equal(h1.status, 200);
      assert.equal(parseWebBody(h1.body).trailers["grpc-status"], "0");
    } finally {
      await stack.close();
    }
  });

  it("reloads a renewed listener certificate without restart, and keeps it on a broken one", async () => {
    const pki = await testPki();
    const dir = mkdtempSync(join(tmpdir(), "gw-cert-"));
    const certFile = join(dir, "server.crt");
    const keyFile = join(dir, "server.key");
    copyFileSync(pki.serverCertFile, certFile);
    copyFileSync(pki.serverKeyFile, keyFile);
    const stack = await startStack({
      impl: "connect-node",
      gateway: {
        listen: { host: "127.0.0.1", port: 0, tls: { certFile, keyFile } },
        reload: { intervalMs: 100 },
      },
    });
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tlsConnect(
          { host: "127.0.0.1", port: stack.gateway.port, servername: "localhost", ca: pki.ca },
          () => {
            resolve(socket.getPeerX509Certificate()?.serialNumber ?? "");
            socket.end();
          },
        );
        socket.on("error", reject);
      });
    try {
      const first = await serial();
      const ca = await loadCertificateAuthority({ cert: pki.ca, key: pki.caKey });
      const renewed = await issueCertificate(ca, {
        commonName: "localhost",
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
        usage: "server",
      });
      writeFileSync(keyFile, renewed.key);
      writeFileSync(certFile, renewed.cert);
      await waitFor(async () => (await serial()) !== first);
      const second = await serial();
      writeFileSync(certFile, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
      await waitFor(() => stack.gateway.logs.some((l) => String(l.msg).includes("reload refused")));
      assert.equal(await serial(), second, "a broken renewal keeps the certificate in use");
    } finally {
      await stack.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("lets calls finish within drainTimeoutMs, then ends them with 14 shutting_down", async () => {
    const stack = await startStack({
      impl: "connect-node",
      gateway: { limits: { drainTimeoutMs: 300 } },
    });
    try {
      const client = createClient(
        NotesService,
        createGrpcWebTransport({ baseUrl: stack.gateway.url }),
      );
      const events: bigint[] = [];
      // Settles to the error the stream ends with (caught at once: no unhandled rejection).
      const ended = (async () => {
        for await (const e of client.watchNotes({ intervalMs: 20 })) events.push(e.sequence);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      await waitFor(() => events.length >= 2);
      const atClose = events.length;
      const started = Date.now();
      await stack.gateway.close();
      const elapsed = Date.now() - started;
      const error = await ended;
      assert.ok(error instanceof ConnectError, String(error));
      assert.equal(error.code, Code.Unavailable);
      assert.match(error.rawMessage, /^shutting_down:/);
      assert.ok(elapsed >= 250, `closed after ${elapsed} ms`);
      assert.ok(events.length > atClose, "the stream kept flowing during the drain");
      await assert.rejects(fetch(`${stack.gateway.url}/healthz`));
    } finally {
      await stack.upstream.close();
    }
  });
});
