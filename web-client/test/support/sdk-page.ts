/**
 * Drives test/fixtures/sdk-page.ts in Chromium: a page server and a stack,
 * logging in through the dev provider's own login form, and typed calls to
 * the page's `window.sdk`.
 */
import assert from "node:assert/strict";
import {
  type BrowserStack,
  type BrowserStackOptions,
  type PageServer,
  servePage,
  startBrowserStack,
} from "@grpc-edge/testing";
import type { BrowserContext, Page } from "playwright-core";

export interface SdkSite {
  readonly pages: PageServer;
  readonly stack: BrowserStack;
  /** Sets what the next page loads read (leeway, autoRefresh). */
  configure(extra?: Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function startSdkSite(
  options: Omit<BrowserStackOptions, "pageOrigins"> = {},
): Promise<SdkSite> {
  const pages = await servePage({
    entry: new URL("../fixtures/sdk-page.ts", import.meta.url).pathname,
    title: "web-client test page",
  });
  const stack = await startBrowserStack({ ...options, pageOrigins: [pages.origin] });
  const configure = (extra: Record<string, unknown> = {}) =>
    pages.configure({
      issuer: stack.idp.issuer,
      clientId: stack.clientId,
      gatewayUrl: stack.gatewayUrl,
      resource: stack.idp.resource,
      ...extra,
    });
  configure();
  return {
    pages,
    stack,
    configure,
    async close() {
      await stack.close();
      await pages.close();
    },
  };
}

/** Opens the page at `path` and waits for its script. */
export async function openPage(context: BrowserContext, site: SdkSite, path = "/"): Promise<Page> {
  const page = await context.newPage();
  await page.goto(site.pages.origin + path);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  return page;
}

/** Runs `fn(window.sdk, arg)` in the page. */
export function sdk<R, A = undefined>(
  page: Page,
  fn: (sdk: SdkApi, arg: A) => R | Promise<R>,
  arg?: A,
): Promise<R> {
  return page.evaluate(
    ([source, a]) => {
      const f = new Function(`return (${source})`)();
      return f((globalThis as unknown as { sdk: unknown }).sdk, a);
    },
    [fn.toString(), arg] as const,
  ) as Promise<R>;
}

// The page's API, as the tests use it (see fixtures/sdk-page.ts).
type Outcome<T> =
  | { failed: false; value: T }
  | {
      failed: true;
      name: string;
      code: string;
      loginRequired: boolean;
      reason?: string;
      gatewayReason?: string;
      requiredScopes: string[];
      message: string;
    };
export interface SdkApi {
  auth: {
    getState(): Promise<{
      status: string;
      subject?: string;
      expiresAtMs?: number;
      scopes?: string[];
    }>;
    logout(options?: { redirect?: boolean }): Promise<void>;
  };
  events: Array<{ status: string; reason?: string; subject?: string }>;
  login(returnTo?: string): Promise<void>;
  token(): Promise<Outcome<string>>;
  whoAmI(): Promise<Outcome<{ subject: string; scopes: string }>>;
  watch(count: number): Promise<Outcome<number[]>>;
  deleteNote(): Promise<Outcome<string>>;
  viaConnectQuery(): Promise<Outcome<string>>;
  insecureTransport(baseUrl: string): Promise<Outcome<string>>;
  offOrigin(url: string): Promise<Outcome<string>>;
  storedTokens(): Promise<{ accessToken: string; refreshToken?: string; tokenType: string } | null>;
  corruptAccessToken(): Promise<void>;
  dpopKey(): Promise<{ extractable: boolean; type: string }>;
  callback: Promise<Outcome<{ returnTo: string; href: string }>> | undefined;
}

/** Logs in as `username` through the provider's login page; resolves on the app's page again. */
export async function login(page: Page, username: string, returnTo = "/notes"): Promise<void> {
  // login() navigates away, which ends the evaluation: its rejection is expected.
  void sdk(page, (s, r) => s.login(r), returnTo).catch(() => undefined);
  await page.waitForURL((url) => url.pathname.startsWith("/interaction/"));
  await page.fill("#username", username);
  await page.fill("#password", username);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/callback"),
    page.click("button[type=submit]"),
  ]);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  const result = await sdk(page, (s) => s.callback);
  assert.equal(result?.failed, false, JSON.stringify(result));
}

/** Polls `check` in Node until it returns a value other than undefined. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
