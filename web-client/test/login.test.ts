// The SDK in real Chromium against the real gateway, the example upstream over
// mTLS and a real OpenID provider: login through the provider's own form,
// calls that carry the token, refused calls that say why, guarded origins.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchChromium } from "@grpc-edge/testing";
import type { Browser, BrowserContext } from "playwright-core";
import { login, openPage, type SdkSite, sdk, startSdkSite } from "./support/sdk-page.ts";

describe("web-client in Chromium: login and calls", () => {
  let site: SdkSite;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    site = await startSdkSite();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it("logs in with code + PKCE through the provider's form and returns to the page asked for, with code and state gone", async () => {
    context = await browser.newContext();
    const page = await openPage(context, site, "/start");
    assert.deepEqual(await sdk(page, (s) => s.auth.getState()), { status: "signed-out" });
    const outcome = await sdk(page, (s) => s.token());
    assert.equal(outcome.failed && outcome.reason, "not_signed_in");
    assert.equal(outcome.failed && outcome.loginRequired, true);

    await login(page, "alice", "/notes?tab=mine");
    const result = await sdk(page, (s) => s.callback);
    assert.equal(result?.failed, false);
    const value = result?.failed === false ? result.value : undefined;
    assert.equal(value?.returnTo, "/notes?tab=mine");
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, "/notes?tab=mine");
    assert.equal(url.searchParams.get("code"), null);
    const events = await sdk(page, (s) => s.events);
    assert.deepEqual(
      events.map((e) => [e.status, e.subject]),
      [["signed-in", "alice"]],
    );
    const state = await sdk(page, (s) => s.auth.getState());
    assert.equal(state.status, "signed-in");
    assert.deepEqual([...(state.scopes ?? [])].filter((s) => s.startsWith("notes:")).sort(), [
      "notes:delete",
      "notes:read",
      "notes:write",
    ]);
  });

  it("unary and server-streaming calls carry the token: the upstream sees the verified identity", async () => {
    const page = await openPage(context, site, "/notes");
    const who = await sdk(page, (s) => s.whoAmI());
    assert.equal(who.failed, false, JSON.stringify(who));
    assert.equal(who.failed === false && who.value.subject, "alice");
    assert.match(who.failed === false ? who.value.scopes : "", /notes:delete/);
    const watched = await sdk(page, (s) => s.watch(3));
    assert.deepEqual(watched.failed === false && watched.value, [1, 2, 3]);
    const viaQuery = await sdk(page, (s) => s.viaConnectQuery());
    assert.deepEqual(viaQuery, { failed: false, value: "for connect-query" });
    assert.deepEqual(await sdk(page, (s) => s.deleteNote()), { failed: false, value: "deleted" });
  });

  it("a call the user lacks the scope for carries the gateway's reason and the scope needed", async () => {
    const bob = await browser.newContext();
    const page = await openPage(bob, site);
    await login(page, "bob");
    const refused = await sdk(page, (s) => s.deleteNote());
    assert.equal(refused.failed, true);
    assert.equal(refused.failed && refused.code, "PermissionDenied");
    assert.equal(refused.failed && refused.gatewayReason, "insufficient_scope");
    assert.deepEqual(refused.failed && refused.requiredScopes, ["notes:delete"]);
    const who = await sdk(page, (s) => s.whoAmI());
    assert.equal(who.failed === false && who.value.subject, "bob");
    await bob.close();
  });

  it("refuses plain-http base URLs (except loopback) and never sends a token to another origin", async () => {
    const page = await openPage(context, site, "/notes");
    const insecure = await sdk(page, (s) => s.insecureTransport("http://gateway.example.com"));
    assert.equal(insecure.failed, true);
    assert.match(insecure.failed ? insecure.message : "", /plain http/);
    const loopback = await sdk(page, (s) => s.insecureTransport("http://127.0.0.1:9"));
    assert.deepEqual(loopback, { failed: false, value: "created" });

    const other = `http://127.0.0.1:${new URL(site.stack.gatewayUrl).port}`; // same gateway, another origin
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    const refused = await sdk(page, (s, url) => s.offOrigin(url), other);
    assert.equal(refused.failed && refused.code, "FailedPrecondition");
    assert.deepEqual(
      requests.filter((u) => u.startsWith(other)),
      [],
      "no request left for the other origin",
    );
  });
});
