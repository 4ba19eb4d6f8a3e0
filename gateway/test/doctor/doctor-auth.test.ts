// Doctor steps 3 and 4 against a real OpenID provider: its discovery and
// keys, this machine's clock against it (the clock injected, skewed on
// purpose), and real tokens broken one cause at a time.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DoctorReport } from "../../src/doctor/report.ts";
import { type BrokenToken, brokenTokens, type TokenCause } from "../support/broken-tokens.ts";
import {
  assertCheck,
  authSection,
  type DoctorFixture,
  NOTES,
  startDoctorFixture,
} from "./fixture.ts";

const TOKEN_ITEMS = [
  "token.decode",
  "token.algorithm",
  "token.issuer",
  "token.key",
  "token.signature",
  "token.type",
  "token.audience",
  "token.lifetime",
];

/** The item each cause fails at. */
const FAILS_AT: Record<TokenCause, string> = {
  expired: "token.lifetime",
  not_yet_valid: "token.lifetime",
  clock_ahead: "token.lifetime",
  wrong_audience: "token.audience",
  wrong_issuer: "token.issuer",
  unknown_kid: "token.key",
  bad_signature: "token.signature",
  algorithm: "token.algorithm",
};

describe("doctor steps 3 and 4: issuers and the token", () => {
  let fx: DoctorFixture;
  let tokens: Record<TokenCause, BrokenToken>;
  before(async () => {
    fx = await startDoctorFixture();
    tokens = await brokenTokens(fx.idp, fx.other, Date.now());
  });
  after(async () => {
    await fx?.close();
  });

  const run = (options: Parameters<DoctorFixture["run"]>[1], raw = fx.config()) =>
    fx.run(raw, options);

  /** Items before the failing one passed, the later ones were not checked. */
  function assertStoppedAt(report: DoctorReport, id: string, reason: string) {
    const at = TOKEN_ITEMS.indexOf(id);
    for (const [i, item] of TOKEN_ITEMS.entries()) {
      const status = i < at ? "pass" : i === at ? "fail" : "skip";
      assertCheck(report, item, status, i === at ? reason : undefined);
    }
  }

  it("a good token: every check passes, with the scopes of --method's rule", async () => {
    const token = await fx.idp.mintAccessToken({ scope: "notes:read" });
    const report = await run({ token, method: `${NOTES}/GetNote` });
    for (const id of [
      "issuer.0.discovery",
      "issuer.0.keys",
      "issuer.0.clock",
      ...TOKEN_ITEMS,
      "token.scopes",
    ])
      assertCheck(report, id, "pass");
    // Pasting the authorization value works as well.
    const pasted = await run({ token: `Bearer ${token}` });
    assertCheck(pasted, "token.lifetime", "pass");
  });

  for (const cause of Object.keys(FAILS_AT) as TokenCause[]) {
    it(`a token broken by ${cause.replaceAll("_", " ")}: diagnosed at ${FAILS_AT[cause]}, with its reason`, async () => {
      const { token, reason } = tokens[cause];
      assertStoppedAt(await run({ token }), FAILS_AT[cause], reason);
    });
  }

  it("a token without the scope --method's rule requires → insufficient_scope naming it", async () => {
    const token = await fx.idp.mintAccessToken({ scope: "notes:read" });
    const report = await run({ token, method: `${NOTES}/DeleteNote` });
    assert.match(
      assertCheck(report, "token.scopes", "fail", "insufficient_scope").detail,
      /notes:admin/,
    );
    const denied = await run({ token, method: "/demo.billing.v1.Billing/Pay" });
    assertCheck(denied, "token.scopes", "fail", "denied_by_policy");
  });

  it("a malformed token fails at decoding", async () => {
    assertStoppedAt(await run({ token: "not-a-jwt" }), "token.decode", "malformed_token");
  });

  it("this machine's clock 5 minutes behind the IdP's: the clock check and a fresh token say clock_skew", async () => {
    const token = await fx.idp.mintAccessToken({ scope: "notes:read" });
    const report = await run({ token, now: () => Date.now() - 300_000 });
    assert.match(
      assertCheck(report, "issuer.0.clock", "fail", "clock_skew").detail,
      /(29[89]|30[012]) s behind/,
    );
    assert.match(
      assertCheck(report, "token.lifetime", "fail", "clock_skew").detail,
      /iat .* s ahead/,
    );
  });

  it("this machine's clock 10 minutes ahead: a fresh token looks expired, and step 3 shows why", async () => {
    const token = await fx.idp.mintAccessToken({ scope: "notes:read" });
    const report = await run({ token, now: () => Date.now() + 600_000 });
    assert.match(
      assertCheck(report, "issuer.0.clock", "fail", "clock_skew").detail,
      /s ahead of the IdP's/,
    );
    assertCheck(report, "token.lifetime", "fail", "token_expired");
  });

  it("an IdP that does not answer → jwks_unavailable at discovery and at the token's key", async () => {
    const token = await fx.other.mintAccessToken({ scope: "notes:read" });
    fx.other.setAvailable(false);
    try {
      const report = await run({ token }, fx.config({ auth: authSection(fx.other) }));
      assert.match(
        assertCheck(report, "issuer.0.discovery", "fail", "jwks_unavailable").detail,
        /503/,
      );
      assertCheck(report, "issuer.0.keys", "skip");
      assertStoppedAt(report, "token.key", "jwks_unavailable");
    } finally {
      fx.other.setAvailable(true);
    }
  });

  it("an issuer configured with a trailing slash its tokens lack: discovery says which value to use", async () => {
    const issuers = [
      { issuer: `${fx.idp.issuer}/`, audiences: [fx.idp.resource], algorithms: ["ES256"] },
    ];
    const auth = authSection(fx.idp, { issuers });
    const report = await run(
      { token: await fx.idp.mintAccessToken({ scope: "notes:read" }) },
      fx.config({ auth }),
    );
    assert.match(
      assertCheck(report, "issuer.0.discovery", "fail", "jwks_unavailable").fix ?? "",
      /exactly/,
    );
    assertStoppedAt(report, "token.issuer", "wrong_issuer");
  });

  it("algorithms the IdP's keys cannot serve → the keys check fails with algorithm_not_allowed", async () => {
    const issuers = [
      { issuer: fx.idp.issuer, audiences: [fx.idp.resource], algorithms: ["PS256"] },
    ];
    const report = await run({}, fx.config({ auth: authSection(fx.idp, { issuers }) }));
    assertCheck(report, "issuer.0.keys", "fail", "algorithm_not_allowed");
  });

  it("without --token the token step is skipped", async () => {
    assertCheck(await run({}), "token", "skip");
  });
});
