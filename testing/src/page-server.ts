/**
 * Serves a test page on 127.0.0.1 (origin http://localhost:<port>): one HTML
 * shell for every path (the app's routes and its OIDC callback), with a
 * config object and the script bundled by esbuild from a TypeScript entry.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";

export interface PageServer {
  readonly origin: string;
  /** Sets the config object the page reads as `window.PAGE_CONFIG`. */
  configure(config: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Bundles `entry` for the browser (workspace packages from their TypeScript sources). */
async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["source"],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

export async function servePage(options: {
  entry: string;
  title?: string;
  port?: number;
}): Promise<PageServer> {
  const script = await bundle(options.entry);
  let config: Record<string, unknown> = {};
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
      return;
    }
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    const json = JSON.stringify(config).replace(/</g, "\\u003c");
    res
      .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
      .end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${options.title ?? "test page"}</title>` +
          `<script>window.PAGE_CONFIG = ${json};</script><script type="module" src="/app.js"></script></head>` +
          `<body><main id="main"></main></body></html>`,
      );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    configure(next) {
      config = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
