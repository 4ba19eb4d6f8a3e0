#!/usr/bin/env -S node --max-semi-space-size=8 --external-memory-accounted-in-global-limit --no-memory-reducer --initial-old-space-size=64
// In a checkout of the repository the TypeScript sources run directly (Node 24
// strips types), so the CLI is never an outdated build; the published package
// and the container image ship only dist/.
import { existsSync } from "node:fs";

const source = new URL("../src/main.ts", import.meta.url);
const entry = existsSync(source) ? source : new URL("../dist/main.js", import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2), process.env);
