/**
 * The one place where an error raised in Fastify's lifecycle for a call (a
 * hook, a plugin such as @fastify/rate-limit, the content-type parser)
 * becomes a gateway error, so that the browser gets a gRPC status it can
 * read instead of an HTTP error page (DESIGN.md decision 2).
 */
import { GatewayError } from "../errors.ts";
import { codeFromHttpStatus } from "../grpc-web/grpc-status.ts";

export function errorFromFastify(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const { statusCode, code, message } = (err ?? {}) as Record<string, unknown>;
  const words = typeof message === "string" ? message.slice(0, 200) : "";
  // No parser for the body's content-type: Fastify's 415.
  if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || statusCode === 415)
    return new GatewayError("unsupported_media_type", words, { cause: err });
  if (statusCode === 429) return new GatewayError("rate_limited", words, { cause: err });
  // A status a hook chose (401, 403, 503 from @fastify/under-pressure…) is
  // meant for the caller; a 500 or none is a bug, and its words stay in the log.
  if (
    typeof statusCode === "number" &&
    statusCode >= 400 &&
    statusCode <= 599 &&
    statusCode !== 500
  )
    return new GatewayError("refused_by_hook", `HTTP ${statusCode}: ${words}`, {
      code: codeFromHttpStatus(statusCode),
      cause: err,
    });
  return new GatewayError("internal", "internal gateway error", { cause: err });
}
