// Doctor step 2 against upstreams broken on purpose: each TLS cause is told
// apart with the reason a call would get (upstream-tls.test.ts), and
// Health/Check is asked as /readyz asks it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { issueCertificate, loadCertificateAuthority } from "@grpc-edge/example-upstream";
import type { DoctorReport } from "../../src/doctor/report.ts";
import { type BrokenUpstreams, startBrokenUpstreams } from "../support/broken-upstreams.ts";
import { startOpensslServer } from "../support/openssl-server.ts";
import { type RawUpstream, startRawUpstream } from "../support/raw-upstream.ts";
import { assertCheck, type DoctorFixture, startDoctorFixture } from "./fixture.ts";

const dayMs = 24 * 60 * 60 * 1000;

describe("doctor step 2: upstreams over mutual TLS", () => {
  let fx: DoctorFixture;
  let broken: BrokenUpstreams;
  let noHealth: RawUpstream;
  let report: DoctorReport;

  before(async () => {
    fx = await startDoctorFixture();
    broken = await startBrokenUpstreams(fx.pki, fx.dir);
    // A gRPC server without grpc.health.v1.Health: every call is 12 UNIMPLEMENTED.
    noHealth = await startRawUpstream({
      ca: fx.pki.ca,
      cert: fx.pki.serverCert,
      key: fx.pki.serverKey,
      handle: ({ stream }) =>
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": "12" },
          { endStream: true },
        ),
    });
    const raw = fx.config();
    const [notes] = raw.upstreams as Array<Record<string, unknown>>;
    raw.upstreams = [
      notes,
      ...broken.config(),
      { ...notes, name: "no-health", address: noHealth.url, services: ["other.v1.Svc"] },
    ];
    report = await fx.run(raw);
  });
  after(async () => {
    await noHealth?.close();
    await broken?.close();
    await fx?.close();
  });

  it("a working upstream: mutual TLS and SERVING", () => {
    assertCheck(report, "upstream.notes.tls", "pass");
    assertCheck(report, "upstream.notes.health", "pass");
  });

  it("each broken upstream fails the TLS check with the reason a call gets, and its fix", () => {
    for (const upstream of broken.upstreams) {
      assertCheck(report, `upstream.${upstream.name}.tls`, "fail", upstream.reason);
      assertCheck(report, `upstream.${upstream.name}.health`, "skip");
    }
  });

  it("names what tells the causes apart: the alert, the certificate's names, plaintext", () => {
    const detail = (name: string) => assertCheck(report, `upstream.${name}.tls`, "fail").detail;
    assert.match(detail("alert-unknown-ca"), /"unknown CA"/);
    assert.match(detail("alert-certificate-required"), /"certificate required"/);
    assert.match(detail("client-other-ca"), /after the TLS handshake/);
    assert.match(detail("wrong-name"), /notes\.internal/);
    assert.match(detail("plaintext"), /plaintext/);
    assert.match(detail("refused"), /ECONNREFUSED/);
  });

  it("an upstream without grpc.health.v1: TLS passes, Health/Check fails", () => {
    assertCheck(report, "upstream.no-health.tls", "pass");
    assert.match(assertCheck(report, "upstream.no-health.health", "fail").detail, /UNIMPLEMENTED/);
  });

  it("an expired client certificate, sent as a gateway whose certificate expired would send it: the upstream's alert says so", async () => {
    const ca = await loadCertificateAuthority({ cert: fx.pki.ca, key: fx.pki.caKey });
    const expired = await issueCertificate(ca, {
      commonName: "grpc-edge-gateway",
      usage: "client",
      notBefore: new Date(Date.now() - 30 * dayMs),
      notAfter: new Date(Date.now() - dayMs),
    });
    const certFile = join(fx.dir, "expired-client.crt");
    const keyFile = join(fx.dir, "expired-client.key");
    writeFileSync(certFile, expired.cert);
    writeFileSync(keyFile, expired.key);
    const server = await startOpensslServer({
      certFile: fx.pki.serverCertFile,
      keyFile: fx.pki.serverKeyFile,
      clientCaFile: fx.pki.caFile,
    });
    try {
      const raw = fx.config();
      const [notes] = raw.upstreams as Array<{ tls: Record<string, unknown> }>;
      raw.upstreams = [
        {
          ...notes,
          address: server.url,
          tls: { ...(notes as { tls: object }).tls, certFile, keyFile },
        },
      ];
      const expiredReport = await fx.run(raw);
      assertCheck(expiredReport, "upstream.notes.certificate", "fail");
      const tls = assertCheck(expiredReport, "upstream.notes.tls", "fail", "upstream_tls");
      assert.match(tls.detail, /"certificate expired"/);
    } finally {
      await server.close();
    }
  });
});
