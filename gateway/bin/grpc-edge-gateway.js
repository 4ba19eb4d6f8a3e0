#!/usr/bin/env node
// Node restarts itself with the gateway's flags first (src/ops/node-flags.ts:
// the one list; a flag this Node rejects is left out), then runs the CLI.
// In a checkout of the repository the TypeScript sources run directly (Node
// 24 strips types), so the CLI is never an outdated build; the published
// package and the container image run the bundle in dist/cli
// (scripts/bundle.ts), which needs no node_modules.
import { existsSync } from "node:fs";

const fromSource = existsSync(new URL("../src/main.ts", import.meta.url));
const module = (path) =>
  new URL(`../${fromSource ? `src/${path}.ts` : `dist/cli/${path}.js`}`, import.meta.url).href;
const { restartWithNodeFlags } = await import(module("ops/node-flags"));
restartWithNodeFlags();
const { main } = await import(module("main"));
process.exitCode = await main(process.argv.slice(2), process.env);
