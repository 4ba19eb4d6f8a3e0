/**
 * One gateway in its own process (so its CPU time is measured apart), built
 * from a config file exactly as the CLI does, and reporting its port over IPC.
 * Usage: gateway-process.ts <config.yaml>
 */
import { loadConfig } from "../../gateway/src/config/config.ts";
import { createGateway } from "../../gateway/src/gateway.ts";

const [configFile] = process.argv.slice(2) as [string];
const gateway = await createGateway(loadConfig(configFile, {}));
const { port } = await gateway.listen();
process.send?.({ port });
// The memory scenarios ask for a full GC (needs --expose-gc) before reading
// memory, so that per-stream figures are not the heap's growth policy.
process.on("message", (message: { type?: string }) => {
  if (message?.type !== "gc") return;
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  process.send?.({ type: "gc-done", heapUsed, rss });
});
process.once("SIGTERM", () => {
  gateway.close().then(() => process.exit(0));
});
