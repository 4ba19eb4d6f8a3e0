/**
 * `grpc-edge-gateway doctor`: the six steps, in order, each on what the
 * earlier ones found. Nothing here prints or exits (command.ts does); time
 * is injected, so a test can put this machine's clock anywhere.
 */
import { checkConfig } from "./config-check.ts";
import { checkCors } from "./cors-check.ts";
import { checkGateway } from "./gateway-call.ts";
import { checkIssuers } from "./issuer-check.ts";
import { buildReport, type Check, type DoctorReport, type StepName, skip } from "./report.ts";
import { checkToken } from "./token-check.ts";
import { checkUpstreams } from "./upstream-check.ts";

export interface DoctorOptions {
  /** The config file (GATEWAY_* variables apply on top, as at start-up). */
  readonly configFile: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** An access token (or an `authorization` value) to check. */
  readonly token?: string | undefined;
  /** The web page's origin, for the CORS preflight. */
  readonly origin?: string | undefined;
  /** `/pkg.Service/Method`: its route, its rule's scopes, and the calls of step 6. */
  readonly method?: string | undefined;
  /** A running gateway to send the preflight and the calls to. */
  readonly gateway?: URL | undefined;
  /** Request headers the app sends beyond the web client's. */
  readonly headers?: readonly string[];
  /** Milliseconds since the epoch: this machine's clock. */
  readonly now?: () => number;
  /** Per network request. Default 5000. */
  readonly timeoutMs?: number;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 5000;
  const steps: Array<{ name: StepName; checks: readonly Check[] }> = [];
  const { checks, config } = checkConfig({
    configFile: options.configFile,
    env: options.env,
    method: options.method,
    gateway: options.gateway,
    nowMs: now(),
  });
  steps.push({ name: "config", checks });
  if (config === undefined) {
    for (const name of ["upstreams", "issuers", "token", "cors", "gateway"] as const)
      steps.push({ name, checks: [skip(name, name, "not run: the config did not load")] });
    return buildReport(steps);
  }
  steps.push({ name: "upstreams", checks: await checkUpstreams(config.upstreams, timeoutMs) });
  const issuers = await checkIssuers(config.auth, { now, timeoutMs });
  steps.push({ name: "issuers", checks: issuers.checks });
  steps.push({
    name: "token",
    checks: await checkToken(config.auth, options.token, options.method, {
      now,
      timeoutMs,
      kids: issuers.kids,
    }),
  });
  steps.push({
    name: "cors",
    checks: await checkCors(config.cors, {
      origin: options.origin,
      headers: options.headers ?? [],
      gateway: options.gateway,
      method: options.method,
      timeoutMs,
    }),
  });
  steps.push({
    name: "gateway",
    checks: await checkGateway(config.auth, {
      gateway: options.gateway,
      method: options.method,
      token: options.token,
      origin: options.origin,
      timeoutMs,
    }),
  });
  return buildReport(steps);
}
