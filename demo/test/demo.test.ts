// The demo as a newcomer meets it: `npm run demo`, the printed URL opened in
// real Chromium, a login as each user through the provider's own page, calls,
// a refusal that says why, a token expiry outlived, tabs that share the
// session; then Ctrl-C, and a busy port.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startDevIdp } from "@grpc-edge/dev-idp";
import { launchChromium } from "@grpc-edge/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";

const repoRoot = new URL("../..", import.meta.url).pathname;
const outputDir = new URL("../test-output/", import.meta.url).pathname;
const pkiDir = mkdtempSync(join(tmpdir(), "demo-pki-"));

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** True when nothing listens on `port` any more. */
async function portIsFree(port: number): Promise<boolean> {
  const server: Server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

interface RunningDemo {
  readonly child: ChildProcess;
  readonly url: string;
  readonly ports: number[];
  output(): string;
  /** Ctrl-C: SIGINT to the whole process group, as a terminal sends it. */
  interrupt(): Promise<Exit>;
}

/** `npm run demo -- <flags>` from the repository root, in its own process group. */
interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function runDemo(
  ports: number[],
  extra: string[] = [],
): { child: ChildProcess; output(): string; exited: Promise<Exit> } {
  const [web, gateway, idp, upstream] = ports.map(String) as [string, string, string, string];
  const args: string[] = ["run", "demo", "--", "--web-port", web, "--gateway-port", gateway];
  args.push("--idp-port", idp, "--upstream-port", upstream, "--pki-dir", pkiDir, ...extra);
  const child: ChildProcess = spawn("npm", args, {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const collect = (c: Buffer) => {
    text += c.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}

async function startDemoProcess(extra: string[] = [], ports?: number[]): Promise<RunningDemo> {
  ports ??= await freePorts(4);
  const { child, output, exited } = runDemo(ports, extra);
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (url === undefined) {
    url = /Open (http:\/\/localhost:\d+)/.exec(output())?.[1];
    if (child.exitCode !== null) throw new Error(`the demo exited early:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`no URL printed:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    ports,
    output,
    async interrupt() {
      process.kill(-(child.pid as number), "SIGINT");
      return exited;
    },
  };
}

/** Whether any process of the demo's process group is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// biome-ignore lint/performance/useDomNodeTextContent: the text as a person reads it, table cells apart.
const text = (page: Page, selector: string) => page.locator(selector).innerText();
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const statusStartsWith = (page: Page, prefix: string) =>
  page.locator("#status", { hasText: new RegExp(`^${escapeRegExp(prefix)}`) }).waitFor();
const signedInAs = (page: Page, user: string) =>
  page.locator("#user", { hasText: new RegExp(`^${user}$`) }).waitFor();

async function loginAs(page: Page, username: string): Promise<void> {
  await page.click("#login");
  await page.waitForURL((url) => url.pathname.startsWith("/interaction/"));
  await page.fill("#username", username);
  await page.fill("#password", username);
  await page.click("button[type=submit]");
  await signedInAs(page, username);
}

describe("npm run demo", () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  it("logs each user in, calls unary and streaming methods, refuses a missing scope with the reason, outlives token expiry, shares the session across tabs", async (t) => {
    const demo = await startDemoProcess(["--access-token-ttl", "8"]);
    assert.match(demo.output(), /alice \/ alice\s+notes:read notes:write notes:delete/);
    assert.match(demo.output(), /bob \/ bob\s+notes:read notes:write\n/);
    const context: BrowserContext = await browser.newContext({
      viewport: { width: 1280, height: 900 },
    });
    const problems: string[] = [];
    context.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    context.on("weberror", (e) => problems.push(`page error: ${e.error().message}`));
    try {
      const page = await context.newPage();
      await page.goto(demo.url);
      await loginAs(page, "alice");
      assert.equal(new URL(page.url()).search, "", "code and state are gone from the URL");
      assert.match(await text(page, "#scopes"), /notes:delete/);

      await page.fill("#note-text", "first note");
      await page.click("#create");
      await statusStartsWith(page, "CreateNote: OK");
      assert.match(await text(page, "#notes"), /first note · alice/);

      await page.click("#echo");
      await statusStartsWith(page, "EchoMetadata: OK");
      const upstream = await text(page, "#upstream");
      assert.match(upstream, /x-auth-subject\s+alice/);
      assert.doesNotMatch(upstream, /forged-by-the-page/);

      await page.click("#watch");
      await page.locator("#events li").nth(1).waitFor();
      await page.click("#stop");
      await statusStartsWith(page, "WatchNotes: OK · stopped after");

      // Outlive the first token: its 8 s lifetime, refreshed at half-life.
      await page.locator("#refreshes", { hasText: /^([2-9]|\d\d+)$/ }).waitFor({ timeout: 30_000 });
      await page.click("#echo");
      await statusStartsWith(page, "EchoMetadata: OK");
      assert.equal(await text(page, "#failed"), "0", "no call failed across the refreshes");

      // A second tab shares the session; a logout in the first is followed.
      const second = await context.newPage();
      await second.goto(demo.url);
      await signedInAs(second, "alice");
      await page.click("#logout");
      await page.waitForURL((url) => url.pathname === "/" && url.port === new URL(demo.url).port);
      await page.waitForSelector("#login", { state: "visible" });
      await second.waitForSelector("#login", { state: "visible" });

      // bob may not delete: the gateway says why, and the page shows it.
      await loginAs(page, "bob");
      await page.fill("#note-text", "bob's note");
      await page.click("#create");
      await statusStartsWith(page, "CreateNote: OK");
      await page.locator("#notes button", { hasText: "Delete" }).first().click();
      await statusStartsWith(page, "DeleteNote:");
      const refusal = await text(page, "#status");
      assert.match(refusal, /PermissionDenied \(7\)/);
      assert.match(refusal, /insufficient_scope/);
      assert.match(refusal, /lacks notes:delete/);
      mkdirSync(outputDir, { recursive: true });
      await page.screenshot({ path: join(outputDir, "demo.png"), fullPage: true });
      t.diagnostic(`screenshot: ${join(outputDir, "demo.png")}`);

      await page.click("#logout");
      await page.waitForSelector("#login", { state: "visible" });
      assert.deepEqual(problems, [], "no console errors");
    } finally {
      await context.close();
      await demo.interrupt();
    }
  });

  it("points the same page and gateway at another OpenID provider with --oidc-*", async () => {
    const ports = await freePorts(4);
    const web = `http://localhost:${ports[0]}`;
    const own = await startDevIdp({
      clients: [
        {
          clientId: "their-web",
          redirectUris: [`${web}/callback`],
          postLogoutRedirectUris: [`${web}/signed-out`],
        },
      ],
      resource: "https://notes.example.com",
    });
    const demo = await startDemoProcess(
      [
        "--oidc-issuer",
        own.issuer,
        "--oidc-client-id",
        "their-web",
        "--oidc-audience",
        "https://notes.example.com",
      ],
      ports,
    );
    const context = await browser.newContext();
    try {
      assert.match(
        demo.output(),
        new RegExp(`Log in with your provider \\(${own.issuer.replace(/\./g, "\\.")}\\)`),
      );
      assert.ok(await portIsFree(ports[2] as number), "the embedded provider is not started");
      const page = await context.newPage();
      await page.goto(demo.url);
      await loginAs(page, "bob");
      await page.click("#echo");
      await statusStartsWith(page, "EchoMetadata: OK");
      assert.match(await text(page, "#upstream"), new RegExp(`x-auth-issuer\\s+${own.issuer}`));
    } finally {
      await context.close();
      await demo.interrupt();
      await own.close();
    }
  });

  it("with --dpop, the same page works with DPoP-bound tokens, a proof per call and gateway nonces", async () => {
    const demo = await startDemoProcess(["--dpop", "--access-token-ttl", "8"]);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const authorizations: string[] = [];
      page.on("request", (r) => {
        const h = r.headers();
        // gRPC-Web calls to the gateway (the token endpoint gets proofs too, without authorization).
        if (h["content-type"]?.startsWith("application/grpc-web")) {
          authorizations.push(
            `${h.authorization?.split(" ")[0]} ${h.dpop === undefined ? "no proof" : "proof"}`,
          );
        }
      });
      await page.goto(demo.url);
      await loginAs(page, "alice");
      await page.locator("#binding", { hasText: /^DPoP/ }).waitFor();
      await page.click("#echo");
      await statusStartsWith(page, "EchoMetadata: OK");
      await page.click("#create");
      await statusStartsWith(page, "CreateNote: OK");
      await page.locator("#refreshes", { hasText: /^[1-9]/ }).waitFor({ timeout: 30_000 });
      await page.click("#echo");
      await statusStartsWith(page, "EchoMetadata: OK");
      assert.equal(await text(page, "#failed"), "0");
      assert.ok(authorizations.length >= 3);
      assert.deepEqual(new Set(authorizations), new Set(["DPoP proof"]));
    } finally {
      await context.close();
      await demo.interrupt();
    }
  });

  it("stops everything on Ctrl-C: exit 0, no process left, every port free", async () => {
    const demo = await startDemoProcess();
    const exit = await demo.interrupt();
    // npm re-raises the SIGINT it forwarded once the demo has exited; an
    // error in the demo's own shutdown would make npm exit with code 1.
    assert.ok(
      exit.code === 0 || exit.signal === "SIGINT",
      `${JSON.stringify(exit)}\n${demo.output()}`,
    );
    assert.match(demo.output(), /stopping the demo…/);
    assert.doesNotMatch(demo.output(), /demo: stopping:|Error/);
    for (let i = 0; i < 50 && groupAlive(demo.child.pid as number); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      groupAlive(demo.child.pid as number),
      false,
      "a process of the demo is still running",
    );
    for (const port of demo.ports)
      assert.ok(await portIsFree(port), `port ${port} is still in use`);
  });

  it("names a busy port and the option to change it, without a stack trace", async () => {
    const ports = await freePorts(4);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(ports[1], "127.0.0.1", r));
    try {
      const { output, exited } = runDemo(ports);
      assert.equal((await exited).code, 1);
      const said = output();
      assert.match(
        said,
        new RegExp(`port ${ports[1]} is already in use, so the gateway cannot start`),
      );
      assert.match(said, /--gateway-port <port> \(or DEMO_GATEWAY_PORT=<port>\)/);
      assert.doesNotMatch(said, /\n\s+at /, "no stack trace");
      for (const port of [ports[0], ports[2], ports[3]]) {
        assert.ok(await portIsFree(port as number), `port ${port} was left open`);
      }
    } finally {
      busy.close();
    }
  });
});
