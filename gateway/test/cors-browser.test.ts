// CORS as a browser enforces it: real headless Chromium loads a page from an
// allowed origin and from a disallowed one, and calls the gateway with fetch.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./support/chromium.ts";
import { type Stack, startStack } from "./support/stack.ts";

/** A page server; the origin is http://localhost:<port>. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>t</title>"),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

/** Runs a gRPC-Web Echo call from the page with fetch; returns what JS can see. */
function callFromPage(
  page: Page,
  url: string,
  path = "/demo.notes.v1.NotesService/Echo",
  extraHeaders: Record<string, string> = {},
) {
  return page.evaluate(
    async ({ url, path, extraHeaders }) => {
      try {
        const res = await fetch(url + path, {
          method: "POST",
          headers: {
            "content-type": "application/grpc-web+proto",
            "x-grpc-web": "1",
            "x-user-agent": "test",
            authorization: "Bearer not-checked-without-auth",
            "grpc-timeout": "5S",
            ...extraHeaders,
          },
          body: new Uint8Array([0, 0, 0, 0, 3, 10, 1, 7]),
        });
        const body = new Uint8Array(await res.arrayBuffer());
        return {
          ok: true,
          status: res.status,
          grpcStatus: res.headers.get("grpc-status"),
          reason: res.headers.get("grpc-edge-reason"),
          bodyLength: body.length,
        };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    },
    { url, path, extraHeaders },
  );
}

describe("CORS in Chromium", () => {
  let stack: Stack;
  let browser: Browser;
  let allowed: { server: Server; origin: string };
  let denied: { server: Server; origin: string };

  before(async () => {
    allowed = await servePage();
    denied = await servePage();
    stack = await startStack({
      impl: "connect-node",
      gateway: { cors: { allowedOrigins: [allowed.origin], maxAgeSeconds: 60 } },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    allowed?.server.close();
    denied?.server.close();
  });

  it("lets an allowed origin call through a preflight, with gRPC headers readable", async () => {
    const page = await browser.newPage();
    await page.goto(allowed.origin);
    const result = await callFromPage(page, stack.gateway.url.replace("127.0.0.1", "localhost"));
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.status, 200);
    assert.ok((result.bodyLength as number) > 5);
    await page.close();
  });

  it("lets the page read a gateway-made error (CORS headers on errors too)", async () => {
    const page = await browser.newPage();
    await page.goto(allowed.origin);
    const result = await callFromPage(
      page,
      stack.gateway.url.replace("127.0.0.1", "localhost"),
      "/demo.missing.v1.Missing/Get",
    );
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.grpcStatus, "12");
    assert.equal(result.reason, "unknown_service");
    await page.close();
  });

  it("blocks a disallowed origin: the browser gets no CORS grant", async () => {
    const page = await browser.newPage();
    await page.goto(denied.origin);
    const calls = stack.gateway.logs.filter((l) => l.msg === "call").length;
    const result = await callFromPage(page, stack.gateway.url.replace("127.0.0.1", "localhost"));
    assert.equal(result.ok, false);
    assert.match(String(result.error), /Failed to fetch/);
    // The preflight failed, so the call itself never reached the relay.
    assert.equal(stack.gateway.logs.filter((l) => l.msg === "call").length, calls);
    const refused = stack.gateway.logs.filter((l) => l.msg === "preflight refused").at(-1);
    assert.equal(refused?.reason, "cors_origin_not_allowed");
    await page.close();
  });

  it("blocks a request header the gateway does not allow, and the gateway names it", async () => {
    const page = await browser.newPage();
    await page.goto(allowed.origin);
    const calls = stack.gateway.logs.filter((l) => l.msg === "call").length;
    const result = await callFromPage(
      page,
      stack.gateway.url.replace("127.0.0.1", "localhost"),
      "/demo.notes.v1.NotesService/Echo",
      { "x-tenant-id": "t1" },
    );
    assert.equal(result.ok, false);
    assert.match(String(result.error), /Failed to fetch/);
    assert.equal(stack.gateway.logs.filter((l) => l.msg === "call").length, calls);
    const refused = stack.gateway.logs.filter((l) => l.msg === "preflight refused").at(-1);
    assert.equal(refused?.reason, "cors_header_not_allowed");
    assert.deepEqual(refused?.headers, ["x-tenant-id"]);
    await page.close();
  });
});
