// One session for the tabs of an origin: a login in one tab is used by the
// others without a new login, and a logout in one is followed by the others.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchChromium } from "@grpc-edge/testing";
import type { Browser } from "playwright-core";
import { login, openPage, type SdkSite, sdk, startSdkSite, until } from "./support/sdk-page.ts";

describe("web-client in Chromium: tabs share the session", () => {
  let site: SdkSite;
  let browser: Browser;

  before(async () => {
    site = await startSdkSite();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it("a login in one tab is seen by an open tab and used by a new one; a logout through the provider is followed by both", async () => {
    const context = await browser.newContext();
    const waiting = await openPage(context, site, "/notes");
    const first = await openPage(context, site);
    await login(first, "alice");

    await until(async () =>
      (await sdk(waiting, (s) => s.events.map((e) => e.status))).includes("signed-in")
        ? true
        : undefined,
    );
    const seen = await sdk(waiting, (s) => s.whoAmI());
    assert.equal(seen.failed === false && seen.value.subject, "alice");
    const fresh = await openPage(context, site, "/notes");
    const again = await sdk(fresh, (s) => s.whoAmI());
    assert.equal(
      again.failed === false && again.value.subject,
      "alice",
      "a new tab needs no new login",
    );

    // Logout redirects through the provider's end-session endpoint and back.
    void sdk(first, (s) => s.auth.logout()).catch(() => undefined);
    await first.waitForURL((url) => url.pathname === "/signed-out", { timeout: 15_000 });
    for (const tab of [waiting, fresh]) {
      const events = await until(async () => {
        const all = await sdk(tab, (s) => s.events.map((e) => e.status));
        return all.at(-1) === "signed-out" ? all : undefined;
      });
      assert.equal(events.filter((e) => e === "signed-out").length, 1);
      const call = await sdk(tab, (s) => s.whoAmI());
      assert.equal(call.failed && call.loginRequired, true);
      assert.equal(call.failed && call.reason, "signed_out");
    }
    const after = await openPage(context, site, "/notes");
    assert.deepEqual(await sdk(after, (s) => s.auth.getState()), { status: "signed-out" });
    // The provider's session is gone too: a new login shows its form again.
    void sdk(after, (s) => s.login()).catch(() => undefined);
    await after.waitForURL((url) => url.pathname.startsWith("/interaction/"));
    assert.equal(await after.locator("#username").count(), 1);
    await context.close();
  });

  it("logout revokes the refresh token at the provider", async () => {
    const context = await browser.newContext();
    const page = await openPage(context, site);
    await login(page, "bob");
    const refreshToken = (await sdk(page, (s) => s.storedTokens()))?.refreshToken ?? "";
    await sdk(page, (s) => s.auth.logout({ redirect: false }));
    const res = await fetch(`${site.stack.idp.issuer}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: site.stack.clientId,
      }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, "invalid_grant");
    await context.close();
  });
});
