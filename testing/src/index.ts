/** @grpc-edge/testing: what the browser tests share. */
export {
  type BrowserStack,
  type BrowserStackOptions,
  NOTES,
  startBrowserStack,
} from "./browser-stack.ts";
export { launchChromium } from "./chromium.ts";
export { type PageServer, servePage } from "./page-server.ts";
