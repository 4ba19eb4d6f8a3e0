/**
 * Runs the example upstream on its own:
 *   node --conditions=source examples/notes-upstream/src/main.ts \
 *     [--port 9443] [--host 127.0.0.1] [--impl connect|grpc-js] [--pki-dir .dev-pki]
 * It makes sure the dev PKI exists (the gateway's example config reads the
 * same folder), prints the URL, and stops on SIGINT or SIGTERM.
 */
import { parseArgs } from "node:util";
import { startConnectUpstream } from "./connect-server.ts";
import { startGrpcJsUpstream } from "./grpc-js-server.ts";
import { type DevPki, defaultDevPkiDir, ensureDevPki } from "./pki.ts";
import type { RunningUpstream } from "./upstream.ts";

const usage =
  "usage: main.ts [--port 9443] [--host 127.0.0.1] [--impl connect|grpc-js] [--pki-dir <path>]";

/** Starts the upstream; resolves with the exit code once a signal stopped it. */
export async function main(argv: readonly string[]): Promise<number> {
  let values: { port: string; host: string; impl: string; "pki-dir": string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: "string", default: "9443" },
        host: { type: "string", default: "127.0.0.1" },
        impl: { type: "string", default: "connect" },
        "pki-dir": { type: "string", default: defaultDevPkiDir },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 64;
  }
  const port = Number(values.port);
  const start = { connect: startConnectUpstream, "grpc-js": startGrpcJsUpstream }[values.impl];
  if (!start || !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    console.error(`--impl must be connect or grpc-js, --port 0..65535\n${usage}`);
    return 64;
  }
  let pki: DevPki;
  let upstream: RunningUpstream;
  try {
    pki = await ensureDevPki({ dir: values["pki-dir"] });
    upstream = await start({ tls: pki, host: values.host, port });
  } catch (err) {
    console.error(`notes upstream: ${(err as Error).message}`);
    return 1;
  }
  console.log(
    `notes upstream (${upstream.implementation}) on ${upstream.url}, mTLS with CA ${pki.caFile}`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  console.log(`${signal}: stopping`);
  await upstream.close();
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
