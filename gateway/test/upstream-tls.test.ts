// Each TLS cause between the gateway and an upstream, broken on purpose
// against real servers, gets its own reason: the same in the client's
// status, the access log line and /metrics. A client certificate refused
// after a TLS 1.3 handshake is 14 upstream_tls naming the alert, never a
// cancelled call; a plaintext upstream is told apart from a refused one.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BrokenUpstreams, startBrokenUpstreams } from "./support/broken-upstreams.ts";
import { callLines, startGateway, type TestGateway } from "./support/gateway.ts";
import { parseWebBody, postGrpcWeb } from "./support/http.ts";
import { testPki } from "./support/stack.ts";
import { waitFor } from "./support/wait.ts";

const EMPTY_MESSAGE = new Uint8Array(5);

describe("upstream TLS failures, one reason per cause", () => {
  let broken: BrokenUpstreams;
  let gw: TestGateway;

  before(async () => {
    broken = await startBrokenUpstreams(await testPki(), mkdtempSync(join(tmpdir(), "gw-tls-")));
    gw = await startGateway({ upstreams: broken.config() });
  });
  after(async () => {
    await gw?.close();
    await broken?.close();
  });

  /** One call to the upstream's service: what the client sees. */
  async function callTo(name: string) {
    const upstream = broken.get(name);
    const res = await postGrpcWeb(gw.url, `/${upstream.service}/Call`, EMPTY_MESSAGE);
    const trailers = parseWebBody(res.body).trailers;
    return {
      upstream,
      status: res.headers["grpc-status"] ?? trailers["grpc-status"],
      reason: res.headers["grpc-edge-reason"] ?? trailers["grpc-edge-reason"],
      message: decodeURIComponent(res.headers["grpc-message"] ?? trailers["grpc-message"] ?? ""),
    };
  }

  async function assertSeenEverywhere(name: string) {
    const { upstream, status, reason } = await callTo(name);
    assert.equal(status, "14", `${name}: status`);
    assert.equal(reason, upstream.reason, `${name}: grpc-edge-reason`);
    const line = callLines(gw.logs).findLast((l) => l.upstream === name);
    assert.equal(line?.reason, upstream.reason, `${name}: access log`);
    assert.equal(line?.grpcStatus, 14);
    const metrics = await gw.gateway.metrics.metrics();
    assert.match(
      metrics,
      new RegExp(
        `grpc_edge_calls_total\\{service="${upstream.service.replaceAll(".", "\\.")}",method="Call",grpc_code="unavailable",reason="${upstream.reason}"\\} [1-9]`,
      ),
      `${name}: /metrics`,
    );
  }

  for (const name of ["untrusted", "wrong-name", "expired", "not-yet-valid"]) {
    it(`a server certificate that is ${name} → its own upstream_cert_* reason`, async () => {
      await assertSeenEverywhere(name);
    });
  }

  it("a name mismatch names the certificate's SANs and the name checked", async () => {
    const { message } = await callTo("wrong-name");
    assert.match(message, /notes\.internal/);
    assert.match(message, /localhost/);
  });

  it("an OpenSSL upstream's TLS 1.3 alert for an untrusted client certificate → 14 upstream_tls naming unknown CA", async () => {
    await assertSeenEverywhere("alert-unknown-ca");
    assert.match((await callTo("alert-unknown-ca")).message, /"unknown CA"/);
  });

  it("an upstream that takes no certificate the gateway can offer → 14 upstream_tls naming certificate required", async () => {
    await assertSeenEverywhere("alert-certificate-required");
    assert.match((await callTo("alert-certificate-required")).message, /"certificate required"/);
  });

  it("a Node upstream that closes after the handshake (client certificate from another CA) → 14 upstream_tls, not 1 CANCELLED", async () => {
    await assertSeenEverywhere("client-other-ca");
    const cancelled = callLines(gw.logs).filter(
      (l) => l.upstream === "client-other-ca" && l.grpcStatus === 1,
    );
    assert.deepEqual(cancelled, []);
  });

  it("a refused client certificate leaves no session behind that looks ready", async () => {
    await callTo("alert-unknown-ca");
    const pool = gw.gateway.app.grpcWebGateway.upstreams.find((p) => p.name === "alert-unknown-ca");
    assert.ok(pool);
    await waitFor(() => pool.sessionStates().length === 0);
  });

  it("a plaintext upstream behind https:// → 14 upstream_not_tls, a closed port → 14 upstream_unavailable", async () => {
    await assertSeenEverywhere("plaintext");
    await assertSeenEverywhere("refused");
  });
});
