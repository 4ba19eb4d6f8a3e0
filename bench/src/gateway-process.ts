/**
 * One gateway in its own process (so its CPU time is measured apart), built
 * from a config file exactly as the CLI does, and reporting its port over IPC.
 * Usage: gateway-process.ts <config.yaml>
 */
import { loadConfig } from "../../gateway/src/config.ts";
import { createGateway } from "../../gateway/src/server.ts";

const [configFile] = process.argv.slice(2) as [string];
const gateway = await createGateway(loadConfig(configFile, {}));
const { port } = await gateway.listen();
process.send?.({ port });
process.once("SIGTERM", () => {
  gateway.close().then(() => process.exit(0));
});
