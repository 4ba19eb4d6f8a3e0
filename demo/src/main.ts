/**
 * `npm run demo`: the whole stack on one machine, on 127.0.0.1. Prints the
 * page's URL and the demo users; Ctrl-C stops everything.
 *
 *   npm run demo -- --web-port 3000 --gateway-port 9080 --idp-port 9401 --upstream-port 9444
 *   npm run demo -- --oidc-issuer https://idp.example.com --oidc-client-id notes-web --oidc-audience api://notes
 *   npm run demo -- --dpop      (DPoP-bound tokens, a proof per call, gateway nonces)
 *
 * Every option can also be given as an environment variable (DEMO_WEB_PORT, DEMO_OIDC_ISSUER, ...).
 */
import { parseArgs } from "node:util";
import { defaultDevPkiDir } from "@grpc-edge/example-upstream";
import { type DemoOptions, type DemoPart, PortInUseError, startDemo } from "./demo.ts";

const defaults: Record<DemoPart, number> = { web: 5173, gateway: 8080, idp: 9400, upstream: 9443 };

const options = {
  "web-port": { type: "string" },
  "gateway-port": { type: "string" },
  "idp-port": { type: "string" },
  "upstream-port": { type: "string" },
  "access-token-ttl": { type: "string" },
  "oidc-issuer": { type: "string" },
  "oidc-client-id": { type: "string" },
  "oidc-audience": { type: "string" },
  "oidc-audience-param": { type: "string" },
  "oidc-scope": { type: "string" },
  "pki-dir": { type: "string" },
  dpop: { type: "boolean" },
  "log-level": { type: "string" },
  help: { type: "boolean" },
} as const;

/** `--gateway-port` → DEMO_GATEWAY_PORT. */
const envName = (option: string) => `DEMO_${option.replace(/-/g, "_").toUpperCase()}`;

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

let flags: ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];
try {
  flags = parseArgs({ options, allowPositionals: false }).values;
} catch (err) {
  fail(`${(err as Error).message} (npm run demo -- --help lists the options)`);
}
if (flags.help) {
  process.stdout.write(
    `npm run demo [-- options]; each option may also be set as DEMO_<NAME>:\n${Object.keys(options)
      .filter((o) => o !== "help")
      .map((o) => `  --${o.padEnd(20)} ${envName(o)}`)
      .join("\n")}\n`,
  );
  process.exit(0);
}
const setting = (name: keyof typeof options): string | undefined => {
  const value = flags[name];
  return typeof value === "string" ? value : process.env[envName(name)];
};

function port(part: DemoPart): number {
  const raw = setting(`${part}-port`);
  if (raw === undefined) return defaults[part];
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    fail(`--${part}-port (${envName(`${part}-port`)}) must be a port number, not "${raw}"`);
  }
  return value;
}

const issuer = setting("oidc-issuer");
const ttl = setting("access-token-ttl");
const demoOptions: DemoOptions = {
  pkiDir: setting("pki-dir") ?? defaultDevPkiDir,
  host: "127.0.0.1",
  ports: {
    web: port("web"),
    gateway: port("gateway"),
    idp: port("idp"),
    upstream: port("upstream"),
  },
  logLevel: setting("log-level") ?? "warn",
  dpop: flags.dpop === true || process.env.DEMO_DPOP === "1",
  ...(ttl === undefined ? {} : { accessTokenTtlSeconds: Number(ttl) }),
  ...(issuer === undefined
    ? {}
    : {
        provider: {
          issuer,
          clientId: setting("oidc-client-id") ?? fail("--oidc-issuer needs --oidc-client-id"),
          audience: setting("oidc-audience") ?? fail("--oidc-issuer needs --oidc-audience"),
          audienceParam: setting("oidc-audience-param") ?? "resource",
          ...(setting("oidc-scope") ? { scope: setting("oidc-scope") as string } : {}),
        },
      }),
};

let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo(demoOptions);
} catch (err) {
  if (err instanceof PortInUseError) {
    const option = `${err.part}-port`;
    fail(
      `port ${err.port} is already in use, so the ${err.part} cannot start. ` +
        `Stop what uses it, or pick another port: npm run demo -- --${option} <port> (or ${envName(option)}=<port>).`,
    );
  }
  fail(`could not start: ${err instanceof Error ? err.message : String(err)}`);
}

const users = demo.users
  .map((u) => `    ${`${u.username} / ${u.password}`.padEnd(16)} ${u.scopes.join(" ")}`)
  .join("\n");
process.stdout.write(`
grpc-edge demo is running. Open ${demo.webUrl}
${users ? `\n  Log in as:\n${users}\n` : `\n  Log in with your provider (${demo.issuer}).\n`}
  Parts: gateway ${demo.gatewayUrl.replace("http://", "")}, OpenID provider ${demo.issuer.replace("http://", "")}, upstream ${demo.upstreamUrl.replace("https://", "")} (gRPC over mTLS).
  Ctrl-C stops everything.
`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write("\nstopping the demo…\n");
  demo.close().then(
    () => process.exit(0),
    (err: unknown) => fail(`stopping: ${err instanceof Error ? err.message : String(err)}`),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
