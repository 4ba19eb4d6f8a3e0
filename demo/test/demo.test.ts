// The demo as a newcomer sees it: the page in real Chromium, calling the
// example upstream through the gateway (unary, streams, metadata, errors).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { type Demo, startDemo } from "../src/demo.ts";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

let demo: Demo;
let browser: Browser;

before(async () => {
  demo = await startDemo({
    pkiDir: mkdtempSync(join(tmpdir(), "demo-pki-")),
    host: "127.0.0.1",
    ports: { upstream: 0, gateway: 0, web: await freePort() },
    logLevel: "warn",
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
after(async () => {
  await browser?.close();
  await demo?.close();
});

/** Waits until the page's status line starts with `prefix` (evaluated in the page). */
function statusStartsWith(page: import("playwright-core").Page, prefix: string) {
  return page.waitForFunction(
    `document.querySelector("#status")?.textContent?.startsWith(${JSON.stringify(prefix)})`,
  );
}

it("runs every demo call from the page through the gateway", async () => {
  const page = await browser.newPage();
  await page.goto(demo.webUrl);
  const status = () => page.textContent("#status");
  await page.fill("#text", "first note");
  await page.click("#create");
  await statusStartsWith(page, "CreateNote: OK");
  await page.click("#list");
  await statusStartsWith(page, "ListNotes: OK");
  assert.match((await page.textContent("#notes")) ?? "", /first note/);
  await page.click("#watch");
  await page.waitForFunction('document.querySelector("#events").children.length >= 2', undefined, {
    timeout: 5000,
  });
  await page.click("#stop");
  await page.click("#echo");
  await statusStartsWith(page, "EchoMetadata: OK");
  const metadata = (await page.textContent("#metadata")) ?? "";
  assert.match(metadata, /x-demo-note: sent by the page/);
  assert.doesNotMatch(metadata, /x-auth-subject/);
  await page.click("#fail");
  await statusStartsWith(page, "Fail:");
  assert.match((await status()) ?? "", /PermissionDenied \(7\): the upstream says no/);
  await page.click("#unknown");
  await statusStartsWith(page, "Unknown service:");
  assert.match((await status()) ?? "", /Unimplemented \(12\): unknown_service/);
});
