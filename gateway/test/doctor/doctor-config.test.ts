// Doctor step 1, broken on purpose: certificate files that are expired, not
// yet valid, about to expire, for the wrong names, with the wrong key or
// the wrong usage; a config start-up refuses; a method nothing serves.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  createCertificateAuthority,
  type IssueCertificateOptions,
  issueCertificate,
  loadCertificateAuthority,
} from "@grpc-edge/example-upstream";
import { assertCheck, type DoctorFixture, NOTES, startDoctorFixture } from "./fixture.ts";

const dayMs = 24 * 60 * 60 * 1000;

describe("doctor step 1: config and certificate files", () => {
  let fx: DoctorFixture;
  before(async () => {
    fx = await startDoctorFixture();
  });
  after(async () => {
    await fx?.close();
  });

  /** Issues a certificate from the dev CA into files; returns their paths. */
  async function issued(name: string, options: IssueCertificateOptions) {
    const ca = await loadCertificateAuthority({ cert: fx.pki.ca, key: fx.pki.caKey });
    const { cert, key } = await issueCertificate(ca, options);
    const certFile = join(fx.dir, `${name}.crt`);
    const keyFile = join(fx.dir, `${name}.key`);
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key);
    return { certFile, keyFile };
  }

  /** The config with the upstream's tls section changed. */
  function withUpstreamTls(tls: Record<string, unknown>) {
    const raw = fx.config();
    const [notes] = raw.upstreams as Array<{ tls: Record<string, unknown> }>;
    Object.assign((notes as { tls: Record<string, unknown> }).tls, tls);
    return raw;
  }

  it("passes a working config; the listener's names are checked against --gateway", async () => {
    const listen = {
      host: "127.0.0.1",
      port: 0,
      tls: { certFile: fx.pki.serverCertFile, keyFile: fx.pki.serverKeyFile },
    };
    const raw = fx.config({ listen });
    const ok = await fx.run(raw, { gateway: new URL("https://localhost:1"), timeoutMs: 1000 });
    for (const id of ["config", "listener.certificate", "listener.key", "listener.names"])
      assertCheck(ok, id, "pass");
    for (const id of [
      "upstream.notes.ca",
      "upstream.notes.certificate",
      "upstream.notes.usage",
      "upstream.notes.key",
    ])
      assertCheck(ok, id, "pass");
    const wrongName = await fx.run(raw, {
      gateway: new URL("https://gw.example.com:1"),
      timeoutMs: 1000,
    });
    assert.match(assertCheck(wrongName, "listener.names", "fail").detail, /gw\.example\.com/);
  });

  it("an expired client certificate: start-up refuses the config, and the file's check says why", async () => {
    const expired = await issued("expired-client", {
      commonName: "grpc-edge-gateway",
      usage: "client",
      notBefore: new Date(Date.now() - 30 * dayMs),
      notAfter: new Date(Date.now() - dayMs),
    });
    const report = await fx.run(withUpstreamTls(expired));
    assert.match(assertCheck(report, "config", "fail").detail, /upstreams\[0\]\.tls/);
    assert.match(
      assertCheck(report, "upstream.notes.certificate", "fail", "upstream_tls").detail,
      /expired/,
    );
    assert.equal(report.ok, false);
    // The other steps still ran on the config.
    assertCheck(report, "issuer.0.keys", "pass");
  });

  it("a listener certificate not valid yet, with the wrong key", async () => {
    const future = await issued("future-server", {
      commonName: "localhost",
      dnsNames: ["localhost"],
      usage: "server",
      notBefore: new Date(Date.now() + dayMs),
      notAfter: new Date(Date.now() + 30 * dayMs),
    });
    const raw = fx.config({
      listen: {
        host: "127.0.0.1",
        port: 0,
        tls: { certFile: future.certFile, keyFile: fx.pki.clientKeyFile },
      },
    });
    const report = await fx.run(raw);
    assert.match(assertCheck(report, "listener.certificate", "fail").detail, /not valid before/);
    assertCheck(report, "listener.key", "fail");
  });

  it("a certificate that expires within 14 days is a warning, not a failure", async () => {
    const soon = await issued("soon-client", {
      commonName: "grpc-edge-gateway",
      usage: "client",
      notAfter: new Date(Date.now() + 5 * dayMs),
    });
    const report = await fx.run(withUpstreamTls(soon));
    assert.match(assertCheck(report, "upstream.notes.certificate", "warn").detail, /expires soon/);
    assertCheck(report, "upstream.notes.tls", "pass");
  });

  it("a server certificate used as the gateway's client certificate: usage fails", async () => {
    const serverOnly = await issued("server-as-client", { commonName: "gw", usage: "server" });
    const report = await fx.run(withUpstreamTls(serverOnly));
    assertCheck(report, "upstream.notes.usage", "fail", "upstream_tls");
    // The upstream refuses it too, and step 2 names that.
    assertCheck(report, "upstream.notes.tls", "fail", "upstream_tls");
  });

  it("a CA file from another CA: step 1 passes the file, step 2 names the untrusted upstream", async () => {
    const other = await createCertificateAuthority("another CA");
    const caFile = join(fx.dir, "other-ca.crt");
    writeFileSync(caFile, other.cert);
    const report = await fx.run(withUpstreamTls({ caFile }));
    assertCheck(report, "upstream.notes.ca", "pass");
    assert.match(
      assertCheck(report, "upstream.notes.tls", "fail", "upstream_cert_untrusted").detail,
      /another CA/,
    );
  });

  it("a config start-up refuses: the key is named, the later steps do not run", async () => {
    const report = await fx.run({ ...fx.config(), limits: { maxMesageBytes: 10 } });
    assert.match(assertCheck(report, "config", "fail").detail, /maxMesageBytes/);
    for (const step of ["upstreams", "issuers", "token", "cors", "gateway"])
      assertCheck(report, step, "skip");
  });

  it("--method that no upstream serves → unknown_service", async () => {
    const report = await fx.run(fx.config(), { method: "/demo.billing.v1.Billing/Pay" });
    assertCheck(report, "method.route", "fail", "unknown_service");
    const served = await fx.run(fx.config(), { method: `${NOTES}/GetNote` });
    assertCheck(served, "method.route", "pass");
  });
});
