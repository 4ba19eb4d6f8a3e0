// The package as an app's build sees it: resolved from dist/ by esbuild, Vite
// and webpack without a TypeScript source condition, tree-shakeable, free of
// Node built-ins, and within its size budget.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundleSize, everyExport, ownCodeBudgetBytes } from "../scripts/bundle-size.ts";

const packageDir = new URL("..", import.meta.url).pathname;
const distDir = join(packageDir, "dist");

// An app's entry: what a frontend team writes first.
const app = `
import { createClient } from "@connectrpc/connect";
import { createAuth, createGatewayTransport, LoginRequiredError } from "@grpc-edge/web-client";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
const auth = createAuth({ authority: "https://idp.example.com", clientId: "notes-web", redirectUri: location.origin + "/callback" });
const notes = createClient(NotesService, createGatewayTransport({ baseUrl: "https://gw.example.com", auth }));
window.app = { notes, LoginRequiredError };
`;

describe("the published package", () => {
  let dir: string;
  before(() => {
    // Inside the workspace, so that bundlers find node_modules the way an app's build does.
    dir = mkdtempSync(join(packageDir, ".bundlers-"));
    writeFileSync(join(dir, "main.js"), app);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps its own code under the size budget (minified + gzip)", async () => {
    const { gzipBytes } = await bundleSize(everyExport);
    assert.ok(gzipBytes < ownCodeBudgetBytes, `${gzipBytes} bytes`);
  });

  it("is tree-shakeable: importing only the error helper leaves oidc-client-ts out", async () => {
    const { code } = await bundleSize(
      'import { gatewayReason } from "@grpc-edge/web-client"; window.r = gatewayReason;',
      [],
    );
    assert.doesNotMatch(code, /signinRedirect|UserManager/);
    const whole = await bundleSize(everyExport, []);
    assert.match(whole.code, /signinRedirect/);
  });

  it("ships ESM with types and no Node built-ins", () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    assert.equal(manifest.type, "module");
    assert.equal(manifest.sideEffects, false);
    assert.equal(manifest.exports["."].default, "./dist/index.js");
    const files = readdirSync(distDir);
    assert.ok(files.includes("index.d.ts"));
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      const code = readFileSync(join(distDir, file), "utf8");
      assert.doesNotMatch(code, /from "node:|require\(/, file);
    }
  });

  it("resolves and builds in Vite", async () => {
    const { build } = await import("vite");
    writeFileSync(
      join(dir, "index.html"),
      '<!doctype html><script type="module" src="./main.js"></script>',
    );
    const out = join(dir, "vite-out");
    await build({ root: dir, logLevel: "silent", build: { outDir: out, minify: false } });
    const assets = readdirSync(join(out, "assets")).filter((f) => f.endsWith(".js"));
    const code = assets.map((f) => readFileSync(join(out, "assets", f), "utf8")).join("");
    assert.match(code, /LoginRequiredError/);
    assert.match(code, /signinRedirect/);
  });

  it("resolves and builds in webpack", async () => {
    const { default: webpack } = await import("webpack");
    const out = join(dir, "webpack-out");
    const stats = await new Promise<import("webpack").Stats>((resolve, reject) =>
      webpack(
        {
          mode: "production",
          context: dir,
          entry: "./main.js",
          output: { path: out },
          optimization: { minimize: false },
        },
        (err, result) => (err || !result ? reject(err) : resolve(result)),
      ),
    );
    assert.equal(stats.hasErrors(), false, stats.toString({ all: false, errors: true }));
    assert.match(readFileSync(join(out, "main.js"), "utf8"), /LoginRequiredError/);
  });
});
