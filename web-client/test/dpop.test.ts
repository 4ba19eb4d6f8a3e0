// DPoP from the browser to the gateway in real Chromium: the provider binds
// the tokens to a key the page cannot export, every call carries a fresh
// proof, the gateway's nonce challenge is answered, and refreshes (also
// proven with the key) keep calls working.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchChromium } from "@grpc-edge/testing";
import type { Browser } from "playwright-core";
import { login, openPage, type SdkSite, sdk, startSdkSite } from "./support/sdk-page.ts";

const ttlSeconds = 6;

describe("web-client in Chromium: DPoP", () => {
  let site: SdkSite;
  let browser: Browser;

  before(async () => {
    site = await startSdkSite({
      accessTokenTtlSeconds: ttlSeconds,
      auth: { clockToleranceSeconds: 0, dpop: { mode: "required", requireNonce: true } },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it("binds the tokens to a non-extractable key and sends a fresh proof with every call, answering the nonce challenge", async () => {
    site.configure({ dpop: true });
    const context = await browser.newContext();
    const page = await openPage(context, site);
    const authorizations: URL[] = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.origin === site.stack.idp.issuer && url.pathname === "/auth")
        authorizations.push(url);
    });
    await login(page, "alice");
    const stored = await sdk(page, (s) => s.storedTokens());
    assert.equal(stored?.tokenType, "DPoP");
    const jkt = authorizations[0]?.searchParams.get("dpop_jkt");
    assert.match(jkt ?? "", /^[\w-]{43}$/, "the authorization code is bound to the key (dpop_jkt)");
    const claims = JSON.parse(
      Buffer.from(stored?.accessToken.split(".")[1] ?? "", "base64url").toString(),
    );
    assert.equal(claims.cnf?.jkt, jkt, "the access token is bound to the same key");

    const key = await sdk(page, (s) => s.dpopKey());
    assert.deepEqual(key, { extractable: false, type: "private" });

    const calls: Array<{ authorization: string; dpop: string }> = [];
    const nonceChallenges: string[] = [];
    page.on("request", (r) => {
      if (r.url().startsWith(site.stack.gatewayUrl) && r.method() === "POST") {
        const h = r.headers();
        calls.push({ authorization: h.authorization ?? "", dpop: h.dpop ?? "" });
      }
    });
    page.on("response", (r) => {
      const reason = r.headers()["grpc-edge-reason"];
      if (reason === "use_dpop_nonce") nonceChallenges.push(r.url());
    });

    const who = await sdk(page, (s) => s.whoAmI());
    assert.equal(who.failed === false && who.value.subject, "alice", JSON.stringify(who));
    assert.equal(
      nonceChallenges.length,
      1,
      "the first call met the nonce challenge and was retried once",
    );
    const watched = await sdk(page, (s) => s.watch(3));
    assert.deepEqual(watched.failed === false && watched.value, [1, 2, 3]);
    assert.equal(nonceChallenges.length, 1, "the nonce is kept for later calls");
    assert.ok(calls.length >= 3);
    for (const call of calls) {
      assert.match(call.authorization, /^DPoP ey/);
      assert.match(call.dpop, /^ey[\w-]+\.ey[\w-]+\.[\w-]+$/);
    }
    assert.equal(new Set(calls.map((c) => c.dpop)).size, calls.length, "a fresh proof per request");

    // Refreshes are proven with the same key; calls go on across expiries.
    const refreshed = site.stack.idp.stats.issued.refresh_token ?? 0;
    const until = Date.now() + 2 * ttlSeconds * 1000;
    while (Date.now() < until) {
      const again = await sdk(page, (s) => s.whoAmI());
      assert.equal(again.failed, false, JSON.stringify(again));
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok((site.stack.idp.stats.issued.refresh_token ?? 0) - refreshed >= 2);
    await context.close();
  });

  it("a page without DPoP meets the gateway's requirement with a readable refusal", async () => {
    site.configure({ dpop: false });
    const context = await browser.newContext();
    const page = await openPage(context, site);
    await login(page, "bob");
    const refused = await sdk(page, (s) => s.whoAmI());
    assert.equal(refused.failed && refused.code, "Unauthenticated");
    assert.equal(refused.failed && refused.gatewayReason, "dpop_required");
    await context.close();
  });
});
