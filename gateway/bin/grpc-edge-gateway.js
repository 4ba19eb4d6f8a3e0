#!/usr/bin/env node
// Runs the built CLI (dist/); in the repository before a build, the sources.
import { existsSync } from "node:fs";

const built = new URL("../dist/main.js", import.meta.url);
const { main } = await import(
  existsSync(built) ? built.href : new URL("../src/main.ts", import.meta.url).href
);
process.exitCode = await main(process.argv.slice(2), process.env);
