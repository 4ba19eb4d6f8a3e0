#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly (type stripping).
import { runDevPkiCli } from "../src/pki-cli.ts";

process.exitCode = await runDevPkiCli(process.argv.slice(2));
