/**
 * What the SDK adds to an app's bundle: its own code (dist/, as a bundler
 * resolves the package), minified and gzipped, with oidc-client-ts and the
 * connect / protobuf packages left out since an app has them anyway.
 */
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

export const ownCodeBudgetBytes = 6 * 1024;

export interface BundleSize {
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
}

/** Bundles `contents` (an ES module importing the SDK) the way an app's build would. */
export async function bundleSize(
  contents: string,
  external = ["oidc-client-ts", "@connectrpc/*", "@bufbuild/*"],
): Promise<BundleSize & { code: string }> {
  const result = await build({
    stdin: { contents, resolveDir: new URL("..", import.meta.url).pathname, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external,
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text ?? "";
  return {
    code,
    minifiedBytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code, { level: 9 }).length,
  };
}

export const everyExport = 'export * from "@grpc-edge/web-client";';

if (import.meta.main) {
  const own = await bundleSize(everyExport);
  const all = await bundleSize(everyExport, []);
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  process.stdout.write(
    `@grpc-edge/web-client, every export, minified + gzip:\n` +
      `  its own code          ${kb(own.gzipBytes)} (${kb(own.minifiedBytes)} minified; budget ${kb(ownCodeBudgetBytes)})\n` +
      `  with its dependencies ${kb(all.gzipBytes)} (oidc-client-ts, connect-web, connect, protobuf)\n`,
  );
}
