// Tokens that stay fresh in real Chromium: 6 s access tokens and a gateway
// with no clock tolerance, so an expired token would fail the call.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchChromium } from "@grpc-edge/testing";
import type { Browser, Page } from "playwright-core";
import { login, openPage, type SdkSite, sdk, startSdkSite, until } from "./support/sdk-page.ts";

const ttlSeconds = 6;

describe("web-client in Chromium: refresh", () => {
  let site: SdkSite;
  let browser: Browser;

  before(async () => {
    site = await startSdkSite({
      accessTokenTtlSeconds: ttlSeconds,
      auth: { clockToleranceSeconds: 0 },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  const refreshes = () => site.stack.idp.stats.issued.refresh_token ?? 0;
  /** Refresh requests the provider refused, by error, since the suite started. */
  const refused = () =>
    Object.entries(site.stack.idp.stats.refused)
      .filter(([k]) => k.startsWith("refresh_token"))
      .reduce((n, [, count]) => n + count, 0);
  const invalidGrants = () => site.stack.idp.stats.refused["refresh_token:invalid_grant"] ?? 0;
  const expiresAt = async (page: Page) =>
    (await sdk(page, (s) => s.auth.getState())).expiresAtMs ?? 0;

  it("keeps calls succeeding across several token expiries", async () => {
    site.configure();
    const context = await browser.newContext();
    const page = await openPage(context, site);
    await login(page, "alice");
    const before = refreshes();
    const refusedBefore = refused();
    const firstExpiry = await expiresAt(page);
    const failures: unknown[] = [];
    let calls = 0;
    // Past three expiries of the first token.
    while (Date.now() < firstExpiry + 2 * ttlSeconds * 1000 + 1000) {
      const who = await sdk(page, (s) => s.whoAmI());
      calls++;
      if (who.failed) failures.push(who);
      await new Promise((r) => setTimeout(r, 400));
    }
    assert.deepEqual(failures, [], `${calls} calls`);
    assert.ok(refreshes() - before >= 3, `refreshed ${refreshes() - before} times`);
    assert.equal(refused(), refusedBefore);
    const events = await sdk(page, (s) => s.events.map((e) => e.status));
    assert.ok(events.filter((e) => e === "refreshed").length >= 3, events.join());
    await context.close();
  });

  for (const locks of ["Web Locks", "the IndexedDB lease (no Web Locks)"]) {
    it(`two tabs due at the same moment share one refresh request, through ${locks}`, async () => {
      // No background timer: the test decides the moment both tabs ask.
      site.configure({ autoRefresh: false });
      const context = await browser.newContext();
      if (locks !== "Web Locks") {
        await context.addInitScript(() => {
          Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined });
        });
      }
      const first = await openPage(context, site);
      await login(first, "alice");
      const second = await openPage(context, site, "/notes");
      assert.equal(
        await second.evaluate(() => typeof (navigator as { locks?: unknown }).locks),
        locks === "Web Locks" ? "object" : "undefined",
      );
      // Both tabs see the same session, then wait until its token is due.
      const dueAt = (await expiresAt(first)) - (ttlSeconds * 1000) / 2;
      await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now()) + 200));
      const before = refreshes();
      const refusedBefore = refused();
      const [a, b] = await Promise.all([first, second].map((p) => sdk(p, (s) => s.token())));
      assert.equal(a?.failed, false, JSON.stringify(a));
      assert.equal(b?.failed, false, JSON.stringify(b));
      assert.equal(
        a?.failed === false && a.value,
        b?.failed === false && b.value,
        "both tabs use the new token",
      );
      assert.equal(refreshes() - before, 1, "one refresh request");
      assert.equal(refused(), refusedBefore, "no invalid_grant");
      const who = await sdk(second, (s) => s.whoAmI());
      assert.equal(who.failed, false);
      await context.close();
    });
  }

  it("a stored token the gateway refuses is replaced once and the call retried", async () => {
    site.configure({ autoRefresh: false });
    const context = await browser.newContext();
    const page = await openPage(context, site);
    await login(page, "bob");
    // Corrupt the stored access token's signature: still "valid" by its expiry.
    await sdk(page, (s) => s.corruptAccessToken());
    const requests: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().includes("EchoMetadata")) requests.push(r.url());
    });
    const before = refreshes();
    const who = await sdk(page, (s) => s.whoAmI());
    assert.equal(who.failed, false, JSON.stringify(who));
    assert.equal(requests.length, 2, "the refused call and its one retry");
    assert.equal(refreshes() - before, 1);
    await context.close();
  });

  it("a revoked refresh token ends the session: LoginRequiredError, one login-required event, no more token requests", async () => {
    site.configure({ autoRefresh: false });
    const context = await browser.newContext();
    const page = await openPage(context, site);
    await login(page, "bob");
    const other = await openPage(context, site, "/notes");
    const refreshToken = (await sdk(page, (s) => s.storedTokens()))?.refreshToken ?? "";
    const revoked = await fetch(`${site.stack.idp.issuer}/token/revocation`, {
      method: "POST",
      body: new URLSearchParams({ token: refreshToken, client_id: site.stack.clientId }),
    });
    assert.equal(revoked.status, 200);
    const dueAt = (await expiresAt(page)) - (ttlSeconds * 1000) / 2;
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now()) + 200));
    const refusedBefore = invalidGrants();
    const first = await sdk(page, (s) => s.whoAmI());
    const again = await sdk(page, (s) => s.whoAmI());
    for (const outcome of [first, again]) {
      assert.equal(outcome.failed && outcome.loginRequired, true, JSON.stringify(outcome));
      assert.equal(outcome.failed && outcome.name, "LoginRequiredError");
      assert.equal(outcome.failed && outcome.reason, "invalid_grant");
    }
    assert.equal(invalidGrants(), refusedBefore + 1, "the token endpoint was asked once");
    const events = await sdk(page, (s) => s.events.map((e) => `${e.status}:${e.reason ?? ""}`));
    assert.deepEqual(
      events.filter((e) => e.startsWith("login-required")),
      ["login-required:invalid_grant"],
    );
    // The other tab learns it too, without asking the provider.
    const otherEvents = await until(async () => {
      const seen = await sdk(other, (s) => s.events.map((e) => `${e.status}:${e.reason ?? ""}`));
      return seen.includes("login-required:invalid_grant") ? seen : undefined;
    });
    assert.deepEqual(
      otherEvents.filter((e) => e.startsWith("login-required")),
      ["login-required:invalid_grant"],
    );
    const otherCall = await sdk(other, (s) => s.whoAmI());
    assert.equal(otherCall.failed && otherCall.reason, "invalid_grant");
    assert.equal(invalidGrants(), refusedBefore + 1, "the other tab did not ask the provider");
    await context.close();
  });
});
