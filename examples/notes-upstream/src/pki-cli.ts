/**
 * `grpc-edge-dev-pki [--dir <path>] [--valid-days <n>]`: makes sure the dev
 * PKI exists and is valid, then prints where each file is, for a config file
 * or a shell to pick up.
 */
import { parseArgs } from "node:util";
import { type DevPki, defaultDevPkiDir, ensureDevPki } from "./pki.ts";

const usage = "usage: grpc-edge-dev-pki [--dir <path>] [--valid-days <n>]";

/** Runs the CLI; returns the process exit code (64 = usage error, as in sysexits). */
export async function runDevPkiCli(argv: readonly string[]): Promise<number> {
  let values: { dir?: string | undefined; "valid-days"?: string | undefined; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        dir: { type: "string" },
        "valid-days": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 64;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const validDays = values["valid-days"] === undefined ? undefined : Number(values["valid-days"]);
  if (validDays !== undefined && !(Number.isInteger(validDays) && validDays > 7)) {
    console.error(`--valid-days must be a whole number above 7\n${usage}`);
    return 64;
  }
  let pki: DevPki;
  try {
    pki = await ensureDevPki({
      dir: values.dir ?? defaultDevPkiDir,
      ...(validDays === undefined ? {} : { validDays }),
    });
  } catch (err) {
    console.error(`grpc-edge-dev-pki: ${(err as Error).message}`);
    return 1;
  }
  console.log(
    [
      `dev PKI in ${pki.dir} (${pki.generated ? "generated" : "reused"})`,
      `  CA certificate      ${pki.caFile}`,
      `  CA key              ${pki.caKeyFile}`,
      `  server certificate  ${pki.serverCertFile}  (localhost, 127.0.0.1)`,
      `  server key          ${pki.serverKeyFile}`,
      `  client certificate  ${pki.clientCertFile}  (CN=grpc-edge-gateway)`,
      `  client key          ${pki.clientKeyFile}`,
    ].join("\n"),
  );
  return 0;
}

// Run when executed directly; bin/grpc-edge-dev-pki.js and tests call runDevPkiCli.
if (import.meta.main) process.exitCode = await runDevPkiCli(process.argv.slice(2));
