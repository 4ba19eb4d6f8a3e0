/**
 * The CLI: `grpc-edge-gateway --config <file.yaml>`. The only module that
 * reads process.env and argv, handles signals and exits.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "./config.ts";
import { ConfigError } from "./config-error.ts";
import { createGateway } from "./server.ts";

const USAGE = `Usage: grpc-edge-gateway --config <file.yaml>

Options:
  -c, --config <file>   YAML config (or GATEWAY_CONFIG); keys may be overridden
                        by GATEWAY_<KEY_PATH> variables, e.g. GATEWAY_LISTEN_PORT=9090
      --check           validate the config and exit
  -h, --help            this help
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
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
  let gateway: Awaited<ReturnType<typeof createGateway>>;
  try {
    const config = loadConfig(values.config ?? env.GATEWAY_CONFIG, env);
    if (values.check === true) {
      process.stdout.write("config ok\n");
      return 0;
    }
    gateway = await createGateway(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const { url } = await gateway.listen();
  gateway.log.info({ url }, "grpc-edge gateway listening");
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
  return 0;
}
