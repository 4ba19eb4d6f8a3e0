/**
 * Serves the demo page: index.html and app.js, bundled once at start-up by
 * esbuild from web/app.ts (connect-web and the generated code included).
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Bundles the page script for the browser, with the gateway's URL baked in. */
export async function bundlePage(gatewayUrl: string): Promise<string> {
  const result = await build({
    entryPoints: [new URL("../web/app.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    minify: false,
    define: { GATEWAY_URL: JSON.stringify(gatewayUrl) },
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

export async function startWebServer(options: {
  host: string;
  port: number;
  gatewayUrl: string;
}): Promise<WebServer> {
  const html = await readFile(new URL("../web/index.html", import.meta.url), "utf8");
  const script = await bundlePage(options.gatewayUrl);
  const server: Server = createServer((req, res) => {
    if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    } else if (req.url === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
