/** @grpc-edge/testing: what the browser tests share. */
export {
  type BrowserStack,
  type BrowserStackOptions,
  NOTES,
  startBrowserStack,
} from "./browser-stack.ts";
export { CHROMIUM_PATH, launchChromium } from "./chromium.ts";
export { bundle, type PageServer, servePage } from "./page-server.ts";
