/**
 * The CLI: `grpc-edge-gateway --config <file.yaml>`, and
 * `grpc-edge-gateway doctor …` (doctor/command.ts). The only module that
 * reads process.env and argv, handles signals and exits.
 */
import { parseArgs } from "node:util";
import pino from "pino";
import { type GatewayConfig, loadConfig } from "./config/config.ts";
import { ConfigError } from "./config/config-error.ts";
import { createGateway } from "./gateway.ts";
import { EX_CONFIG, isClusterPrimary, isClusterWorker, runPrimary } from "./ops/cluster.ts";
import { missingNodeFlags, nodeFlags } from "./ops/node-flags.ts";

const USAGE = `Usage: grpc-edge-gateway --config <file.yaml>
       grpc-edge-gateway doctor --config <file.yaml> [options]   (doctor --help)

Options:
  -c, --config <file>   YAML config (or GATEWAY_CONFIG); keys may be overridden
                        by GATEWAY_<KEY_PATH> variables, e.g. GATEWAY_LISTEN_PORT=9090
      --check           validate the config and exit
  -h, --help            this help
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === "doctor") {
    const { doctorCommand } = await import("./doctor/command.ts");
    return doctorCommand(argv.slice(1), env, process.stdout, process.stderr);
  }
  let values: {
    config?: string | undefined;
    check?: boolean | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string", short: "c" },
        check: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 64; // EX_USAGE
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  let config: GatewayConfig;
  try {
    config = loadConfig(values.config ?? env.GATEWAY_CONFIG, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return EX_CONFIG;
    }
    throw err;
  }
  if (values.check === true) {
    process.stdout.write("config ok\n");
    return 0;
  }
  if (!isClusterWorker()) warnOfMissingFlags(config, env);
  if (config.workers > 1 && isClusterPrimary()) {
    return runPrimary(config.workers, pino({ level: config.log.level }));
  }
  return serve(config);
}

/**
 * The bin restarts node with the gateway's flags; one that this Node
 * rejects (or all, where node cannot restart itself) is left out: say so
 * once, and go on without it.
 */
function warnOfMissingFlags(config: GatewayConfig, env: NodeJS.ProcessEnv): void {
  const missing = missingNodeFlags(nodeFlags(env), process.execArgv, env.NODE_OPTIONS);
  if (missing.length === 0) return;
  pino({ level: config.log.level }).warn(
    { missing, node: process.version },
    "node runs without some of the gateway's flags (this Node rejects them, or cannot restart itself with them); the gateway works without them, at some CPU and memory cost per stream (GATEWAY_NODE_FLAGS sets the list)",
  );
}

/** One gateway process: listen, then drain on SIGTERM/SIGINT. */
async function serve(config: GatewayConfig): Promise<number> {
  let gateway: Awaited<ReturnType<typeof createGateway>>;
  try {
    gateway = await createGateway(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return EX_CONFIG;
    }
    throw err;
  }
  const { url, adminUrl } = await gateway.listen();
  gateway.log.info({ url, adminUrl, pid: process.pid }, "grpc-edge gateway listening");
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      gateway.log.info(
        { signal, activeCalls: gateway.activeCalls() },
        "shutting down: draining calls in flight",
      );
      gateway.close().then(resolve, (err: unknown) => {
        gateway.log.error({ err }, "error during shutdown");
        resolve();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  // A cluster worker's IPC channel would keep it alive after the drain.
  if (isClusterWorker()) process.disconnect();
  return 0;
}
