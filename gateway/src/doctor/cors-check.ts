/**
 * Step 5: would a browser page at `--origin` get through the preflight
 * with the headers the web client sends? Without `--gateway`, by the
 * config (the decision the gateway's CORS makes, edge/preflight.ts); with
 * it, by sending the preflight and reading the answer as a browser does.
 */
import type { GatewayConfig } from "../config/config.ts";
import {
  headerList,
  headersNotAllowed,
  originAllowed,
  requestHeadersNotAllowed,
} from "../edge/preflight.ts";
import { send } from "./gateway-request.ts";
import { type Check, fail, pass, skip } from "./report.ts";

/** What @grpc-edge/web-client (connect-web's gRPC-Web transport and the auth interceptor) sends. */
export const WEB_CLIENT_HEADERS = [
  "authorization",
  "content-type",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
] as const;

export interface CorsCheckOptions {
  readonly origin: string | undefined;
  /** Headers the app sends beyond the web client's (`--header`). */
  readonly headers: readonly string[];
  readonly gateway: URL | undefined;
  readonly method: string | undefined;
  readonly timeoutMs: number;
}

/** What decided: the origins and headers granted, and where the answer came from. */
interface Grant {
  readonly originAllowed: boolean;
  readonly refusedHeaders: readonly string[];
  readonly source: string;
}

export async function checkCors(
  cors: GatewayConfig["cors"],
  options: CorsCheckOptions,
): Promise<Check[]> {
  const { origin } = options;
  if (origin === undefined)
    return [skip("cors", "CORS preflight", "give --origin <the web page's origin>")];
  const requested = [
    ...new Set([...WEB_CLIENT_HEADERS, ...options.headers.map((h) => h.toLowerCase())]),
  ];
  let grant: Grant;
  if (options.gateway === undefined) {
    grant = {
      originAllowed: originAllowed(cors, origin),
      refusedHeaders: requestHeadersNotAllowed(cors, requested),
      source: "by the config's cors section",
    };
  } else {
    const url = new URL(options.method ?? "/grpc.health.v1.Health/Check", options.gateway);
    try {
      const answer = await send(url, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": requested.join(","),
        },
        timeoutMs: options.timeoutMs,
      });
      const allowOrigin = answer.headers["access-control-allow-origin"];
      const reason = answer.headers["grpc-edge-reason"];
      grant = {
        originAllowed: allowOrigin === origin || allowOrigin === "*",
        refusedHeaders: headersNotAllowed(
          requested,
          headerList(answer.headers["access-control-allow-headers"]),
          answer.headers["access-control-allow-credentials"] === "true",
        ),
        source: `by ${options.gateway.host}'s answer (HTTP ${answer.status}${reason === undefined ? "" : `, grpc-edge-reason ${reason}`})`,
      };
    } catch (err) {
      return [
        fail({
          id: "cors",
          title: "CORS preflight",
          detail: `the preflight to ${url.host} failed: ${(err as Error).message}`,
          fix: "see step 6 for why the gateway cannot be reached",
        }),
      ];
    }
  }
  const originCheck = grant.originAllowed
    ? pass("cors.origin", `origin ${origin}`, `allowed ${grant.source}`)
    : fail({
        id: "cors.origin",
        title: `origin ${origin}`,
        detail: `not allowed ${grant.source}; cors.allowedOrigins: ${JSON.stringify(cors.allowedOrigins)}`,
        fix: `add "${origin}" to cors.allowedOrigins (exactly: scheme, host and port, no path)`,
        reason: "cors_origin_not_allowed",
      });
  const headersCheck =
    grant.refusedHeaders.length === 0
      ? pass("cors.headers", "request headers", `${requested.join(", ")} allowed ${grant.source}`)
      : fail({
          id: "cors.headers",
          title: "request headers",
          detail: `${grant.refusedHeaders.join(", ")} not allowed ${grant.source}`,
          fix: `add ${grant.refusedHeaders.join(", ")} to cors.allowedHeaders`,
          reason: "cors_header_not_allowed",
        });
  return [originCheck, headersCheck];
}
