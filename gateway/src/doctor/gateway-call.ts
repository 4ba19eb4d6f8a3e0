/**
 * Step 6: real calls to `--method` through the running gateway, as a
 * browser makes them (gRPC-Web over HTTP/1.1, one empty message): without
 * a token, which the policy decides, and with the token, which should
 * reach the upstream. Each shows the status and the gateway's reason.
 */
import type { AuthConfig } from "../auth/auth-config.ts";
import { compilePolicy } from "../auth/policy.ts";
import { type Reason, reasons } from "../errors.ts";
import { codeName } from "../grpc-web/grpc-status.ts";
import { parseMethodPath } from "../routing/router.ts";
import { type Answer, grpcOutcome, send, unreachable } from "./gateway-request.ts";
import { type Check, fail, failWith, pass, skip } from "./report.ts";

export interface GatewayCallOptions {
  readonly gateway: URL | undefined;
  readonly method: string | undefined;
  readonly token: string | undefined;
  readonly origin: string | undefined;
  readonly timeoutMs: number;
}

/** An empty message: valid for any request type (every field at its default). */
const EMPTY_MESSAGE = new Uint8Array(5);

export async function checkGateway(
  auth: AuthConfig | undefined,
  options: GatewayCallOptions,
): Promise<Check[]> {
  const { gateway, method } = options;
  if (gateway === undefined) {
    return [
      skip("gateway", "calls through the gateway", "give --gateway <url> to make real calls"),
    ];
  }
  if (method === undefined) {
    return [
      skip("gateway", "calls through the gateway", "give --method /pkg.Service/Method to call"),
    ];
  }
  const url = new URL(method, gateway);
  const withoutToken = await call(url, undefined, options);
  const checks = [judgeWithoutToken(withoutToken, expectationWithoutToken(auth, method))];
  if (options.token === undefined) {
    checks.push(skip("gateway.with-token", "call with the token", "give --token or --token-file"));
  } else if (!("answer" in withoutToken)) {
    checks.push(
      skip("gateway.with-token", "call with the token", "the gateway could not be reached"),
    );
  } else {
    checks.push(judgeWithToken(await call(url, options.token, options)));
  }
  return checks;
}

type Outcome = { readonly answer: Answer } | { readonly detail: string; readonly fix: string };

async function call(
  url: URL,
  token: string | undefined,
  options: GatewayCallOptions,
): Promise<Outcome> {
  const headers: Record<string, string> = {
    "content-type": "application/grpc-web+proto",
    "x-grpc-web": "1",
    "x-user-agent": "grpc-edge-gateway-doctor",
  };
  if (options.origin !== undefined) headers.origin = options.origin;
  if (token !== undefined)
    headers.authorization = /^bearer\s/i.test(token.trim())
      ? token.trim()
      : `Bearer ${token.trim()}`;
  try {
    return {
      answer: await send(url, {
        method: "POST",
        headers,
        body: EMPTY_MESSAGE,
        timeoutMs: options.timeoutMs,
      }),
    };
  } catch (err) {
    return unreachable(url, err, options.timeoutMs);
  }
}

/** What the policy says a call without a token gets: a refusal, or through to the upstream. */
function expectationWithoutToken(
  auth: AuthConfig | undefined,
  method: string,
): Reason | "upstream" {
  if (auth === undefined) return "upstream";
  let path: ReturnType<typeof parseMethodPath>;
  try {
    path = parseMethodPath(method);
  } catch {
    return "bad_path";
  }
  const decision = compilePolicy(auth.rules, auth.defaultPolicy).decide(path.path, path.service);
  if (decision.kind === "public") return "upstream";
  return decision.kind === "deny" ? "denied_by_policy" : "missing_token";
}

/** "16 UNAUTHENTICATED missing_token: the method requires…" */
function describe(
  answer: Answer,
): { readonly text: string; readonly reason: Reason | undefined } | undefined {
  const outcome = grpcOutcome(answer);
  if (answer.status !== 200 || outcome.grpcStatus === undefined) return undefined;
  const reason =
    outcome.reason !== undefined && outcome.reason in reasons
      ? (outcome.reason as Reason)
      : undefined;
  const name = codeName(Number(outcome.grpcStatus)).toUpperCase();
  const challenge =
    outcome.wwwAuthenticate === undefined ? "" : `; www-authenticate: ${outcome.wwwAuthenticate}`;
  return { text: `${outcome.grpcStatus} ${name} ${outcome.message}${challenge}`.trim(), reason };
}

function notGrpc(id: string, title: string, answer: Answer): Check {
  return fail({
    id,
    title,
    detail: `HTTP ${answer.status} (${answer.headers["content-type"] ?? "no content-type"}), not a gRPC-Web answer`,
    fix: "point --gateway at the gateway itself: something in front of it answered",
  });
}

function judgeWithoutToken(outcome: Outcome, expected: Reason | "upstream"): Check {
  const id = "gateway.without-token";
  const title = "call without a token";
  if (!("answer" in outcome)) return fail({ id, title, ...outcome });
  const seen = describe(outcome.answer);
  if (seen === undefined) return notGrpc(id, title, outcome.answer);
  if (expected === "upstream") {
    if (seen.reason === undefined) return pass(id, title, `answered by the upstream: ${seen.text}`);
    return failWith(id, title, seen.text, seen.reason);
  }
  if (seen.reason === expected) return pass(id, title, `refused as the policy says: ${seen.text}`);
  const detail = `expected ${expected} by this config's policy, got: ${seen.text}`;
  if (seen.reason !== undefined) return failWith(id, title, detail, seen.reason);
  return fail({
    id,
    title,
    detail,
    fix: "the gateway let the call through without a token: check that it runs with this config (and its GATEWAY_* variables)",
  });
}

function judgeWithToken(outcome: Outcome): Check {
  const id = "gateway.with-token";
  const title = "call with the token";
  if (!("answer" in outcome)) return fail({ id, title, ...outcome });
  const seen = describe(outcome.answer);
  if (seen === undefined) return notGrpc(id, title, outcome.answer);
  if (seen.reason === undefined) return pass(id, title, `answered by the upstream: ${seen.text}`);
  return failWith(id, title, seen.text, seen.reason);
}
