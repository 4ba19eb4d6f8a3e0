/**
 * Logger options (Fastify's pino). Tokens and cookies never reach a log
 * line: the request serializer keeps only what the access line needs, and
 * redaction covers the header paths in case a header object is logged.
 */
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from "fastify";

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

type ChildLoggerFactory = FastifyInstance["childLoggerFactory"];
type LogMethod = (...args: unknown[]) => void;

/**
 * A request's child logger, made when something first logs through it.
 * Fastify binds a child logger to every request; the gateway writes its own
 * access line with the request id, so most calls never use theirs, and
 * making it (serializing its bindings) was the largest single part of what
 * Fastify's request lifecycle costs per call.
 */
class LazyChildLogger {
  readonly #make: () => FastifyBaseLogger;
  #logger: FastifyBaseLogger | undefined;
  constructor(make: () => FastifyBaseLogger) {
    this.#make = make;
  }
  get #real(): FastifyBaseLogger {
    this.#logger ??= this.#make();
    return this.#logger;
  }
  get level(): string {
    return this.#real.level;
  }
  set level(level: string) {
    this.#real.level = level;
  }
  fatal(...args: unknown[]): void {
    (this.#real.fatal as LogMethod)(...args);
  }
  error(...args: unknown[]): void {
    (this.#real.error as LogMethod)(...args);
  }
  warn(...args: unknown[]): void {
    (this.#real.warn as LogMethod)(...args);
  }
  info(...args: unknown[]): void {
    (this.#real.info as LogMethod)(...args);
  }
  debug(...args: unknown[]): void {
    (this.#real.debug as LogMethod)(...args);
  }
  trace(...args: unknown[]): void {
    (this.#real.trace as LogMethod)(...args);
  }
  silent(...args: unknown[]): void {
    (this.#real.silent as LogMethod)(...args);
  }
  child(...args: Parameters<FastifyBaseLogger["child"]>): FastifyBaseLogger {
    return this.#real.child(...args);
  }
}

/** Wraps a scope's child logger factory so that each request's child is made on first use. */
export function lazyChildLoggers(make: ChildLoggerFactory): ChildLoggerFactory {
  return function lazyChild(this: FastifyInstance, logger, bindings, options, rawRequest) {
    return new LazyChildLogger(() =>
      make.call(this, logger, bindings, options, rawRequest),
    ) as unknown as FastifyBaseLogger;
  };
}
