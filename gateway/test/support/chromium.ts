/**
 * Headless Debian Chromium driven by playwright-core, for what only a
 * browser enforces (CORS, redirects, storage, tabs). The flags keep it off
 * the network: this machine refuses outside connections, and Chromium's
 * background services try many. The browser tests of every workspace use
 * this one (through @grpc-edge/testing).
 */
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** `args`: more Chromium switches, e.g. to trust one test certificate. */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      ...args,
    ],
  });
}
