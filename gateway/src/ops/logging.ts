/**
 * Logger options (Fastify's pino). Tokens and cookies never reach a log
 * line: the request serializer keeps only what the access line needs, and
 * redaction covers the header paths in case a header object is logged.
 */
import { type FastifyServerOptions, LogController } from "fastify";

export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers.dpop",
  "headers.authorization",
  "headers.cookie",
  "headers.dpop",
  'headers["set-cookie"]',
];

export function loggerOptions(level: string): NonNullable<FastifyServerOptions["logger"]> {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      req: (req: { method: string; url: string; ip: string }) => ({
        method: req.method,
        url: req.url,
        remoteAddress: req.ip,
      }),
    },
  };
}

/**
 * Fastify's own per-request lines are off: the gateway writes one access
 * line per call itself (call-record.ts), with the gRPC status in it.
 */
export function quietRequestLogs(): LogController {
  return new LogController({ disableRequestLogging: true });
}
