/**
 * The `doctor` subcommand's arguments and output. Exit codes: 0 when every
 * check passes (warnings allowed), 1 when one fails, 64 for a usage error.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runDoctor } from "./doctor.ts";
import { formatReport } from "./report.ts";

export const DOCTOR_USAGE = `Usage: grpc-edge-gateway doctor --config <file.yaml>
         [--token <jwt> | --token-file <file>] [--origin <url>]
         [--method /pkg.Service/Method] [--gateway <url>] [--header <name>]... [--json]

Checks, in order, and prints a checklist with a fix for each failure:
  1 the config and its certificate files   4 the token (--token)
  2 each upstream over mutual TLS          5 a CORS preflight from --origin
  3 each issuer's discovery and keys       6 real calls through --gateway
Exit code 0 when all pass, 1 when one fails.

Options:
  -c, --config <file>      YAML config (or GATEWAY_CONFIG); GATEWAY_* variables apply
      --token <jwt>        an access token to check (a "Bearer …" value works too)
      --token-file <file>  read the token from a file instead
      --origin <url>       the web page's origin, e.g. https://app.example.com
      --method <path>      /pkg.Service/Method: its route, its rule's scopes, the calls
      --gateway <url>      a running gateway, e.g. https://gw.example.com
      --header <name>      a request header the app sends beyond the web client's (repeatable)
      --json               print the report as JSON
  -h, --help               this help
`;

export interface Output {
  write(text: string): void;
}

export async function doctorCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: Output,
  err: Output,
): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: "string", short: "c" },
        token: { type: "string" },
        "token-file": { type: "string" },
        origin: { type: "string" },
        method: { type: "string" },
        gateway: { type: "string" },
        header: { type: "string", multiple: true },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${DOCTOR_USAGE}`);
    return 64;
  }
  if (values.help === true) {
    out.write(DOCTOR_USAGE);
    return 0;
  }
  const usage = (message: string) => {
    err.write(`${message}\n\n${DOCTOR_USAGE}`);
    return 64;
  };
  const text = (name: string) => values[name] as string | undefined;
  if (text("token") !== undefined && text("token-file") !== undefined)
    return usage("give --token or --token-file, not both");
  let token = text("token");
  const tokenFile = text("token-file");
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (e) {
      return usage(`cannot read --token-file: ${(e as Error).message}`);
    }
  }
  const origin = text("origin");
  if (origin !== undefined && !isOrigin(origin))
    return usage(`--origin "${origin}" is not an origin like https://app.example.com (no path)`);
  let gateway: URL | undefined;
  const gatewayText = text("gateway");
  if (gatewayText !== undefined) {
    if (!URL.canParse(gatewayText) || !/^https?:$/.test(new URL(gatewayText).protocol))
      return usage(`--gateway "${gatewayText}" is not an http:// or https:// URL`);
    gateway = new URL(gatewayText);
  }
  const report = await runDoctor({
    configFile: text("config") ?? env.GATEWAY_CONFIG,
    env,
    token,
    origin,
    method: text("method"),
    gateway,
    headers: (values.header as string[] | undefined) ?? [],
  });
  out.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

function isOrigin(value: string): boolean {
  return URL.canParse(value) && new URL(value).origin === value;
}
