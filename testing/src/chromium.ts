/** Headless Chromium for the browser tests: the gateway's own launcher, one copy for the repository. */
export { launchChromium } from "../../gateway/test/support/chromium.ts";
