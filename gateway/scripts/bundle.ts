// Bundles the CLI (src/main.ts, and src/ops/node-flags.ts that the bin loads
// first) with every package it imports into dist/cli: what the container
// image and the published bin run. One bundle loads far fewer modules than
// node_modules does, so a fresh gateway holds less memory, and the image
// needs no node_modules at all. What loads only when configured (jose and
// the token checks, the Redis client, the OpenTelemetry tracer, the doctor)
// stays in chunks of its own, loaded as before.
//
// Not minified: stack traces keep their function names. Source maps are
// written next to the chunks; Node applies them only with
// --enable-source-maps, which costs memory, so it is left to the operator.
// THIRD-PARTY-LICENSES.txt collects the licence of each bundled package.
//
// Packages with a native binary (koffi, for glibc's malloc_trim) cannot be
// bundled: they are copied whole into dist/cli/node_modules with the
// platform package this machine installed for them, so dist/cli still runs
// on its own, on the platform it was built on (the image builds it inside
// its own base image).
//
//   node scripts/bundle.ts [outdir]       (default: dist/cli)
//   node scripts/bundle.ts --image <dir>  the gateway folder as the image
//                                         holds it: bin, package.json, dist/cli
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { build, type Metafile } from "esbuild";

const gateway = new URL("../", import.meta.url).pathname;

/** Packages with native binaries: copied next to the bundle, not into it. */
const NATIVE_PACKAGES = ["koffi"];

/** The two modules the bin imports, by their path under dist/cli. */
const CLI_ENTRIES = ["main", "ops/node-flags"] as const;

export interface BundleResult {
  /** Files written, relative to the output directory. */
  readonly files: readonly string[];
  /** Bundled packages (name@version), from outside this repository. */
  readonly packages: readonly string[];
}

async function bundleCli(outDir = join(gateway, "dist/cli")): Promise<BundleResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: gateway,
    entryPoints: CLI_ENTRIES.map((entry) => ({ in: `src/${entry}.ts`, out: entry })),
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    // The workspace packages (@grpc-edge/proto) from their sources; packages
    // that ship an ES module build (the "module" condition, which esbuild
    // drops once conditions are given) in it: one copy, imported by name.
    conditions: ["source", "module"],
    sourcemap: "linked",
    metafile: true,
    external: NATIVE_PACKAGES,
    logLevel: "warning",
    // CommonJS packages (Fastify, pino) require Node's modules; an ES module
    // has no `require` of its own.
    banner: {
      js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);',
    },
  });
  const packages = [...bundledPackages(result.metafile), ...copyNativePackages(outDir)].sort(
    (a, b) => a.name.localeCompare(b.name),
  );
  writeFileSync(join(outDir, "THIRD-PARTY-LICENSES.txt"), licenseText(packages));
  return {
    files: Object.keys(result.metafile.outputs).map((file) =>
      resolve(gateway, file).slice(resolve(outDir).length + 1),
    ),
    packages: packages.map((p) => `${p.name}@${p.version}`),
  };
}

/**
 * The gateway folder as the container image holds it (the Dockerfile's
 * final stage): the bin, package.json and the bundle in dist/cli. Returns
 * the bundle's result; the bin is `<dir>/bin/grpc-edge-gateway.js`.
 */
export function writeImageLayout(dir: string): Promise<BundleResult> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(gateway, "bin"), join(dir, "bin"), { recursive: true });
  cpSync(join(gateway, "package.json"), join(dir, "package.json"));
  return bundleCli(join(dir, "dist/cli"));
}

interface BundledPackage {
  readonly name: string;
  readonly version: string;
  readonly license: string;
  readonly dir: string;
}

/** The packages under node_modules that the bundle took files from. */
function bundledPackages(metafile: Metafile): BundledPackage[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1] !== undefined) dirs.add(resolve(gateway, match[1]));
  }
  return [...dirs].map(readManifest);
}

/** Copies each native package, and the optional (platform) packages installed for it, into outDir/node_modules. */
function copyNativePackages(outDir: string): BundledPackage[] {
  const copied: BundledPackage[] = [];
  const copy = (name: string, from: string) => {
    const dir = join(from, "node_modules", name);
    if (!existsSync(join(dir, "package.json"))) return undefined;
    cpSync(dir, join(outDir, "node_modules", name), { recursive: true, dereference: true });
    const manifest = readManifest(dir);
    copied.push(manifest);
    return manifest;
  };
  for (const name of NATIVE_PACKAGES) {
    const root = installRoot(name);
    const manifest = copy(name, root);
    if (manifest === undefined) throw new Error(`${name} is not installed: run npm install`);
    for (const optional of Object.keys(manifest.optionalDependencies ?? {})) copy(optional, root);
  }
  return copied;
}

/** The folder whose node_modules holds `name`, looking up from the gateway. */
function installRoot(name: string): string {
  for (let dir = gateway; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules", name, "package.json"))) return dir;
    if (dirname(dir) === dir) return gateway;
  }
}

function readManifest(
  dir: string,
): BundledPackage & { optionalDependencies?: Record<string, string> } {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return {
    name: manifest.name,
    version: manifest.version,
    license: manifest.license,
    dir,
    optionalDependencies: manifest.optionalDependencies,
  };
}

function licenseText(packages: readonly BundledPackage[]): string {
  const sections = packages.map((p) => {
    const file = readdirSync(p.dir).find((name) => /^(licen[cs]e|copying)/i.test(name));
    const text =
      file === undefined
        ? "(The package ships no licence file; its package.json names the licence above.)"
        : readFileSync(join(p.dir, file), "utf8").trim();
    return `${p.name}@${p.version}, licence: ${p.license ?? "not stated"}\n\n${text}\n`;
  });
  return `The grpc-edge gateway's CLI bundle includes these packages.\n\n${sections.join(`\n${"-".repeat(72)}\n\n`)}`;
}

if (import.meta.main) {
  const [first, second] = process.argv.slice(2);
  if (first === "--image" && second === undefined) {
    process.stderr.write("usage: node scripts/bundle.ts --image <dir> (or [outdir])\n");
    process.exit(2);
  }
  const image = first === "--image" && second !== undefined ? resolve(second) : undefined;
  const outDir = image === undefined ? resolve(first ?? join(gateway, "dist/cli")) : image;
  const { files, packages } = await (image === undefined
    ? bundleCli(outDir)
    : writeImageLayout(image));
  process.stdout.write(
    `bundled ${packages.length} packages into ${files.length} files in ${outDir}\n`,
  );
}
