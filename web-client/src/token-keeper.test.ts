// The token logic with an injected clock: expiry and leeway, one refresh at a
// time (within a tab and across tabs sharing one store), failures classified.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { LoginRequiredError } from "./login-required-error.ts";
import { createTokenKeeper, type TokenKeeperOptions, type TokenSet } from "./token-keeper.ts";

const second = 1000;

/** A provider with rotating refresh tokens: a redeemed one is refused (invalid_grant), as real ones do. */
function fakeProvider(clock: { ms: number }, lifetimeMs = 300 * second) {
  let serial = 0;
  let refreshToken = "rt-0";
  const stored: { current: (TokenSet & { refreshToken: string }) | null } = {
    current: {
      accessToken: "at-0",
      expiresAtMs: clock.ms + lifetimeMs,
      lifetimeMs,
      hasRefreshToken: true,
      refreshToken,
    },
  };
  const provider = {
    stored,
    redemptions: 0,
    failWith: undefined as unknown,
    /** Redeems the refresh token the store holds (as oidc-client-ts does). */
    async redeem(): Promise<TokenSet> {
      provider.redemptions++;
      await new Promise((r) => setTimeout(r, 5));
      if (provider.failWith !== undefined) throw provider.failWith;
      const presented = stored.current?.refreshToken;
      if (presented !== refreshToken)
        throw Object.assign(new Error("grant reused"), { error: "invalid_grant" });
      serial++;
      refreshToken = `rt-${serial}`;
      stored.current = {
        accessToken: `at-${serial}`,
        expiresAtMs: clock.ms + lifetimeMs,
        lifetimeMs,
        hasRefreshToken: true,
        refreshToken,
      };
      return stored.current;
    },
  };
  return provider;
}

/** One mutex for all "tabs", like Web Locks for one origin. */
function sharedMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  let holders = 0;
  let maxHolders = 0;
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(async () => {
      holders++;
      maxHolders = Math.max(maxHolders, holders);
      try {
        return await task();
      } finally {
        holders--;
      }
    });
    tail = run.catch(() => undefined);
    return run;
  };
  return { exclusive, maxHolders: () => maxHolders };
}

function tab(
  clock: { ms: number },
  provider: ReturnType<typeof fakeProvider>,
  exclusive = sharedMutex().exclusive,
  extra: Partial<TokenKeeperOptions> = {},
) {
  const events = { refreshed: 0, loginRequired: [] as LoginRequiredError[] };
  const keeper = createTokenKeeper({
    source: { load: async () => provider.stored.current, refresh: () => provider.redeem() },
    leewayMs: 60 * second,
    now: () => clock.ms,
    exclusive,
    onRefreshed: () => {
      events.refreshed++;
    },
    onLoginRequired: (e) => {
      events.loginRequired.push(e);
    },
    ...extra,
  });
  return { keeper, events };
}

describe("token keeper: expiry and leeway", () => {
  it("returns the stored token while more than the leeway is left, without calling the provider", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper } = tab(clock, provider);
    clock.ms += 239 * second; // 61 s left
    assert.equal(await keeper.getAccessToken(), "at-0");
    assert.equal(provider.redemptions, 0);
  });

  it("refreshes on use once the token is inside the leeway (the clock is read at the call)", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper, events } = tab(clock, provider);
    clock.ms += 241 * second; // 59 s left: no timer involved, the call itself checks
    assert.equal(await keeper.getAccessToken(), "at-1");
    assert.equal(provider.redemptions, 1);
    assert.equal(events.refreshed, 1);
  });

  it("refreshes a token that expired while the machine slept", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper } = tab(clock, provider);
    clock.ms += 3600 * second;
    assert.equal(await keeper.getAccessToken(), "at-1");
  });

  it("caps the leeway at half the token's lifetime, so short tokens are not refreshed on every call", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock, 10 * second);
    const { keeper } = tab(clock, provider);
    clock.ms += 4 * second; // 6 s left of 10, leeway 60 s capped to 5 s
    assert.equal(await keeper.getAccessToken(), "at-0");
    assert.equal(await keeper.getAccessToken(), "at-0");
    assert.equal(provider.redemptions, 0);
    clock.ms += 2 * second; // 4 s left
    assert.equal(await keeper.getAccessToken(), "at-1");
    assert.equal(keeper.refreshDueAtMs(provider.stored.current as TokenSet), clock.ms + 5 * second);
  });
});

describe("token keeper: one refresh at a time", () => {
  it("shares one refresh among concurrent callers in a tab", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper } = tab(clock, provider);
    clock.ms += 250 * second;
    const tokens = await Promise.all(Array.from({ length: 10 }, () => keeper.getAccessToken()));
    assert.deepEqual(new Set(tokens), new Set(["at-1"]));
    assert.equal(provider.redemptions, 1);
  });

  it("across tabs: the second tab uses the first tab's refresh, so a rotating refresh token is redeemed once", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const mutex = sharedMutex();
    const tabs = [1, 2, 3].map(() => tab(clock, provider, mutex.exclusive));
    clock.ms += 250 * second;
    const tokens = await Promise.all(tabs.map((t) => t.keeper.getAccessToken()));
    assert.deepEqual(tokens, ["at-1", "at-1", "at-1"]);
    assert.equal(provider.redemptions, 1, "one refresh request for all tabs");
    assert.equal(mutex.maxHolders(), 1);
    assert.deepEqual(
      tabs.map((t) => t.events.loginRequired.length),
      [0, 0, 0],
      "no tab got invalid_grant",
    );
    assert.deepEqual(
      tabs.map((t) => t.events.refreshed),
      [1, 0, 0],
      "only the tab that redeemed reports it (the others hear it through storage)",
    );
  });

  it("without the cross-tab lock, the same race makes the provider refuse the reused refresh token", async () => {
    // Shows what the lock prevents: each tab redeems the same refresh token.
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const tabs = [1, 2].map(() => tab(clock, provider, (task) => task()));
    clock.ms += 250 * second;
    const results = await Promise.allSettled(tabs.map((t) => t.keeper.getAccessToken()));
    assert.equal(provider.redemptions, 2);
    assert.ok(results.some((r) => r.status === "rejected" || r.value !== "at-1"));
  });
});

describe("token keeper: after the gateway refuses a token", () => {
  it("refreshes when the refused token is still the current one, even if its clock says it is valid", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper } = tab(clock, provider);
    assert.equal(await keeper.replaceAccessToken("at-0"), "at-1");
    assert.equal(provider.redemptions, 1);
  });

  it("does not refresh when a newer token is already current", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper } = tab(clock, provider);
    await keeper.replaceAccessToken("at-0");
    assert.equal(await keeper.replaceAccessToken("at-0"), "at-1");
    assert.equal(provider.redemptions, 1);
  });
});

describe("token keeper: failures", () => {
  it("ends the session on invalid_grant: LoginRequiredError with the reason, one event, no more provider calls", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper, events } = tab(clock, provider);
    provider.failWith = Object.assign(new Error("refresh token revoked"), {
      error: "invalid_grant",
    });
    clock.ms += 250 * second;
    const results = await Promise.allSettled([keeper.getAccessToken(), keeper.getAccessToken()]);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      const err = (r as PromiseRejectedResult).reason;
      assert.ok(err instanceof LoginRequiredError);
      assert.ok(err instanceof ConnectError);
      assert.equal(err.name, "LoginRequiredError");
      assert.equal(err.reason, "invalid_grant");
      assert.equal(err.code, Code.Unauthenticated);
    }
    await assert.rejects(keeper.getAccessToken(), LoginRequiredError);
    await assert.rejects(keeper.replaceAccessToken("at-0"), LoginRequiredError);
    assert.equal(provider.redemptions, 1, "the token endpoint is not asked again");
    assert.equal(events.loginRequired.length, 1);
  });

  it("classifies login_required and interaction_required as final too", async () => {
    for (const code of ["login_required", "interaction_required"]) {
      const clock = { ms: 1_000_000 };
      const provider = fakeProvider(clock);
      const { keeper } = tab(clock, provider);
      provider.failWith = Object.assign(new Error(code), { error: code });
      clock.ms += 250 * second;
      await assert.rejects(keeper.getAccessToken(), { name: "LoginRequiredError", reason: code });
    }
  });

  it("a passing failure keeps the still-valid token and backs off before asking again", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper, events } = tab(clock, provider, undefined, { retryFirstMs: 2000 });
    provider.failWith = new TypeError("Failed to fetch");
    clock.ms += 250 * second; // 50 s left
    assert.equal(await keeper.getAccessToken(), "at-0");
    assert.equal(await keeper.getAccessToken(), "at-0");
    assert.equal(provider.redemptions, 1, "no second request inside the backoff");
    clock.ms += 2001;
    assert.equal(await keeper.getAccessToken(), "at-0");
    assert.equal(provider.redemptions, 2);
    assert.equal(keeper.retryAtMs(), clock.ms + 4000, "the delay doubles");
    provider.failWith = undefined;
    clock.ms += 4001;
    assert.equal(await keeper.getAccessToken(), "at-1");
    assert.equal(keeper.retryAtMs(), 0);
    assert.equal(events.loginRequired.length, 0);
  });

  it("a passing failure with an expired token rejects with 14 UNAVAILABLE, not login required", async () => {
    const clock = { ms: 1_000_000 };
    const provider = fakeProvider(clock);
    const { keeper } = tab(clock, provider);
    provider.failWith = Object.assign(new Error("bad gateway"), {
      error: "temporarily_unavailable",
    });
    clock.ms += 301 * second;
    const err = await keeper.getAccessToken().then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConnectError);
    assert.ok(!(err instanceof LoginRequiredError));
    assert.equal(err.code, Code.Unavailable);
  });

  it("not signed in: LoginRequiredError not_signed_in, without an event", async () => {
    const clock = { ms: 0 };
    const provider = fakeProvider(clock);
    provider.stored.current = null;
    const { keeper, events } = tab(clock, provider);
    await assert.rejects(keeper.getAccessToken(), { reason: "not_signed_in" });
    assert.equal(events.loginRequired.length, 0);
  });

  it("no refresh token: LoginRequiredError no_refresh_token once the token is due", async () => {
    const clock = { ms: 0 };
    const provider = fakeProvider(clock);
    provider.stored.current = {
      ...(provider.stored.current as TokenSet & { refreshToken: string }),
      hasRefreshToken: false,
    };
    const { keeper } = tab(clock, provider);
    assert.equal(await keeper.getAccessToken(), "at-0");
    clock.ms += 250 * second;
    await assert.rejects(keeper.getAccessToken(), { reason: "no_refresh_token" });
    assert.equal(provider.redemptions, 0);
  });

  it("reset() after a new login lets calls through again", async () => {
    const clock = { ms: 0 };
    const provider = fakeProvider(clock);
    const { keeper } = tab(clock, provider);
    keeper.end(new LoginRequiredError("signed_out"));
    await assert.rejects(keeper.getAccessToken(), { reason: "signed_out" });
    keeper.reset();
    assert.equal(await keeper.getAccessToken(), "at-0");
  });
});
