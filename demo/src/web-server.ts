/**
 * Serves the demo page: one HTML shell for every route (/, /callback,
 * /signed-out), with the page's config inlined, and app.js bundled once at
 * start-up by esbuild from web/app.ts (@grpc-edge/web-client, connect-web and
 * the generated code included).
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";

/** What the page needs to know (see web/app.ts). */
export interface PageConfig {
  readonly gatewayUrl: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  readonly audience: string;
  readonly audienceParam: string;
  /** Sender-constrained tokens (DPoP) between the page and the gateway. */
  readonly dpop: boolean;
  readonly users: ReadonlyArray<{
    username: string;
    password: string;
    name: string;
    scopes: readonly string[];
  }>;
}

export interface WebServer {
  /** http://localhost:<port>: the page's origin. */
  readonly url: string;
  /** Makes the page available with this config (until then it answers 503). */
  publish(config: PageConfig): Promise<void>;
  close(): Promise<void>;
}

/** Bundles the page script for the browser. */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [new URL("../web/app.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["source"],
    write: false,
    minify: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

const favicon =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2157d6"/>' +
  '<path d="M9 16h14M16 9l7 7-7 7" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>';

export async function startWebServer(options: { host: string; port: number }): Promise<WebServer> {
  const [template, script] = await Promise.all([
    readFile(new URL("../web/index.html", import.meta.url), "utf8"),
    bundlePage(),
  ]);
  let html: string | undefined;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else if (path === "/favicon.svg" || path === "/favicon.ico") {
      res.writeHead(200, { "content-type": "image/svg+xml" }).end(favicon);
    } else if (req.method !== "GET" || path?.includes(".")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    } else if (html === undefined) {
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("starting\n");
    } else {
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
        .end(html);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    async publish(config) {
      const json = JSON.stringify(config).replace(/</g, "\\u003c");
      html = template.replace("/*PAGE_CONFIG*/", `window.PAGE_CONFIG = ${json};`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
