// The HTTP/2 session pool against a real mTLS server: a new session when one
// is saturated, a new one after GOAWAY, and renewed client certificates used
// for new sessions without a restart.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { issueCertificate, loadCertificateAuthority } from "@grpc-edge/example-upstream";
import { startGateway, type TestGateway } from "./support/gateway.ts";
import { parseWebBody, postGrpcWeb } from "./support/http.ts";
import {
  grpcFrame,
  type RawCall,
  type RawUpstream,
  replyOk,
  startRawUpstream,
} from "./support/raw-upstream.ts";
import { gatewayConfig, type TestPki, testPki } from "./support/stack.ts";
import { waitFor } from "./support/wait.ts";

const PATH = "/demo.notes.v1.NotesService/Echo";
const MESSAGE = grpcFrame(new Uint8Array([1]));

describe("upstream session pool", () => {
  let pki: TestPki;
  let upstream: RawUpstream;
  let gw: TestGateway;
  const held: RawCall[] = [];
  let hold = true;
  const dir = mkdtempSync(join(tmpdir(), "gw-pool-"));
  const certFile = join(dir, "client.crt");
  const keyFile = join(dir, "client.key");

  const answer = (call: RawCall) => replyOk(call.stream, MESSAGE);

  before(async () => {
    pki = await testPki();
    copyFileSync(pki.clientCertFile, certFile);
    copyFileSync(pki.clientKeyFile, keyFile);
    upstream = await startRawUpstream({
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      handle: (call) => (hold ? held.push(call) : answer(call)),
    });
    const config = gatewayConfig(pki, upstream.url, { reload: { intervalMs: 100 } });
    const [first] = config.upstreams as Array<Record<string, unknown>>;
    Object.assign(first as object, {
      maxStreamsPerSession: 2,
      tls: { caFile: pki.caFile, certFile, keyFile, serverName: "localhost" },
    });
    gw = await startGateway(config);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it("opens another session when one is saturated", async () => {
    const calls = Array.from({ length: 5 }, () => postGrpcWeb(gw.url, PATH, MESSAGE));
    await waitFor(() => held.length === 5);
    assert.equal(upstream.sessions(), 3, "5 concurrent calls at 2 streams per session");
    hold = false;
    for (const call of held.splice(0)) answer(call);
    for (const res of await Promise.all(calls))
      assert.equal(parseWebBody(res.body).trailers["grpc-status"], "0");
  });

  it("moves new calls to a new session after GOAWAY", async () => {
    const before = upstream.sessions();
    upstream.goAwayAll();
    // The gateway takes a session out of use as soon as its GOAWAY arrives.
    const pool = gw.gateway.app.grpcWebGateway.upstreams[0];
    await waitFor(() => pool?.sessionStates().length === 0);
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE);
    assert.equal(parseWebBody(res.body).trailers["grpc-status"], "0");
    assert.equal(upstream.sessions(), before + 1);
  });

  it("presents a renewed client certificate on new sessions, without a restart", async () => {
    const ca = await loadCertificateAuthority({ cert: pki.ca, key: pki.caKey });
    const renewed = await issueCertificate(ca, {
      commonName: "grpc-edge-gateway",
      usage: "client",
    });
    writeFileSync(keyFile, renewed.key);
    writeFileSync(certFile, renewed.cert);
    await waitFor(() => gw.logs.some((l) => l.msg === "upstream TLS credentials reloaded"));
    const res = await postGrpcWeb(gw.url, PATH, MESSAGE);
    assert.equal(parseWebBody(res.body).trailers["grpc-status"], "0");
    const { X509Certificate } = await import("node:crypto");
    assert.equal(upstream.clientSerials.at(-1), new X509Certificate(renewed.cert).serialNumber);
    // A broken renewal keeps the working credentials.
    writeFileSync(certFile, "not a certificate");
    await waitFor(() => gw.logs.some((l) => String(l.msg).includes("upstream TLS reload refused")));
    const after = await postGrpcWeb(gw.url, PATH, MESSAGE);
    assert.equal(parseWebBody(after.body).trailers["grpc-status"], "0");
  });
});
