// Doctor steps 5 and 6: the CORS preflight, by the config and by a running
// gateway's answer, and real calls through that gateway, broken on purpose
// (a disallowed origin or header, an expired token, an upstream the gateway
// cannot trust, the wrong scheme, nothing listening).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createCertificateAuthority } from "@grpc-edge/example-upstream";
import { brokenTokens } from "../support/broken-tokens.ts";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { freePort } from "../support/ports.ts";
import {
  APP_ORIGIN,
  assertCheck,
  type DoctorFixture,
  NOTES,
  startDoctorFixture,
} from "./fixture.ts";

describe("doctor steps 5 and 6: CORS and calls through the gateway", () => {
  let fx: DoctorFixture;
  let gw: TestGateway;
  let raw: Record<string, unknown>;

  before(async () => {
    fx = await startDoctorFixture();
    raw = fx.config({ cors: { allowedOrigins: [APP_ORIGIN], allowedHeaders: ["x-tenant-id"] } });
    gw = await startGateway(raw);
  });
  after(async () => {
    await gw?.close();
    await fx?.close();
  });

  const gateway = () => new URL(gw.url);

  it("without --origin the preflight is not checked", async () => {
    assertCheck(await fx.run(raw), "cors", "skip");
  });

  for (const where of ["config", "running gateway"] as const) {
    const target = () =>
      where === "config" ? {} : { gateway: gateway(), method: `${NOTES}/GetNote` };

    it(`by the ${where}: the web client's headers and configured extras pass from an allowed origin`, async () => {
      const report = await fx.run(raw, {
        origin: APP_ORIGIN,
        headers: ["X-Tenant-Id"],
        ...target(),
      });
      assertCheck(report, "cors.origin", "pass");
      assertCheck(report, "cors.headers", "pass");
    });

    it(`by the ${where}: a disallowed origin → cors_origin_not_allowed`, async () => {
      const report = await fx.run(raw, { origin: "https://evil.example.com", ...target() });
      const origin = assertCheck(report, "cors.origin", "fail", "cors_origin_not_allowed");
      assert.match(origin.fix ?? "", /https:\/\/evil\.example\.com/);
    });

    it(`by the ${where}: a header the app sends that is not allowed → cors_header_not_allowed naming it`, async () => {
      const report = await fx.run(raw, {
        origin: APP_ORIGIN,
        headers: ["x-trace-tag"],
        ...target(),
      });
      assert.match(
        assertCheck(report, "cors.headers", "fail", "cors_header_not_allowed").detail,
        /x-trace-tag/,
      );
    });
  }

  it("calls without and with a token: refused as the policy says, then answered by the upstream", async () => {
    const token = await fx.idp.mintAccessToken({ scope: "notes:read" });
    const report = await fx.run(raw, { gateway: gateway(), method: `${NOTES}/GetNote`, token });
    assert.match(assertCheck(report, "gateway.without-token", "pass").detail, /missing_token/);
    assert.match(
      assertCheck(report, "gateway.with-token", "pass").detail,
      /answered by the upstream/,
    );
    const publicMethod = await fx.run(raw, {
      gateway: gateway(),
      method: "/grpc.health.v1.Health/Check",
    });
    assert.match(
      assertCheck(publicMethod, "gateway.without-token", "pass").detail,
      /^answered by the upstream: 0 OK/,
    );
  });

  it("an expired token through the gateway → with-token fails with token_expired", async () => {
    const { expired } = await brokenTokens(fx.idp, fx.other, Date.now());
    const report = await fx.run(raw, {
      gateway: gateway(),
      method: `${NOTES}/GetNote`,
      token: expired.token,
    });
    const check = assertCheck(report, "gateway.with-token", "fail", "token_expired");
    assert.match(check.detail, /16 UNAUTHENTICATED/);
  });

  it("a gateway that cannot trust its upstream: the call shows upstream_cert_untrusted", async () => {
    const caFile = join(fx.dir, "untrusting-ca.crt");
    writeFileSync(caFile, (await createCertificateAuthority("another CA")).cert);
    const untrusting = fx.config();
    const [notes] = untrusting.upstreams as Array<{ tls: Record<string, unknown> }>;
    (notes as { tls: Record<string, unknown> }).tls.caFile = caFile;
    const other = await startGateway(untrusting);
    try {
      const report = await fx.run(untrusting, {
        gateway: new URL(other.url),
        method: "/grpc.health.v1.Health/Check",
      });
      assertCheck(report, "gateway.without-token", "fail", "upstream_cert_untrusted");
      assertCheck(report, "upstream.notes.tls", "fail", "upstream_cert_untrusted");
    } finally {
      await other.close();
    }
  });

  it("a gateway that runs another config (no auth) lets a call through without a token: said so", async () => {
    const { auth: _auth, ...withoutAuth } = raw;
    const open = await startGateway(withoutAuth);
    try {
      const report = await fx.run(raw, { gateway: new URL(open.url), method: `${NOTES}/GetNote` });
      assert.match(
        assertCheck(report, "gateway.without-token", "fail").fix ?? "",
        /runs with this config/,
      );
    } finally {
      await open.close();
    }
  });

  it("the wrong scheme, and nothing listening, are told apart", async () => {
    const tlsListener = {
      host: "127.0.0.1",
      port: 0,
      tls: { certFile: fx.pki.serverCertFile, keyFile: fx.pki.serverKeyFile },
    };
    const secure = await startGateway(fx.config({ listen: tlsListener }));
    try {
      const method = `${NOTES}/GetNote`;
      const plainToTls = await fx.run(raw, {
        gateway: new URL(`http://127.0.0.1:${secure.port}`),
        method,
      });
      assert.match(
        assertCheck(plainToTls, "gateway.without-token", "fail").fix ?? "",
        /use https:/,
      );
      const tlsToPlain = await fx.run(raw, {
        gateway: new URL(`https://127.0.0.1:${gw.port}`),
        method,
      });
      assert.match(assertCheck(tlsToPlain, "gateway.without-token", "fail").fix ?? "", /use http:/);
      const closed = await fx.run(raw, {
        gateway: new URL(`http://127.0.0.1:${await freePort()}`),
        method,
      });
      assert.match(assertCheck(closed, "gateway.without-token", "fail").detail, /nothing listens/);
      assertCheck(closed, "gateway.with-token", "skip");
    } finally {
      await secure.close();
    }
  });
});
