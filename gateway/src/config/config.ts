/**
 * The one config reader (DESIGN.md decision 6): file, then GATEWAY_*
 * overrides, then one validation pass whose errors name the key and the
 * fix. It checks everything start-up needs (TLS files, the auth section,
 * the descriptor set), so `--check` and start-up agree. Relative file paths
 * resolve against the config file.
 */
import { accessSync, constants as fsConstants, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { type AuthConfig, parseAuthConfig } from "../auth/auth-config.ts";
import { type DescriptorIndex, loadDescriptorSet } from "../routing/descriptor-set.ts";
import { readListenerTls, readUpstreamTls } from "../upstream/tls-material.ts";
import { ConfigError } from "./config-error.ts";
import { applyEnvOverrides, checkUnknownKeys } from "./config-keys.ts";

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface UpstreamConfig {
  readonly name: string;
  readonly address: URL;
  readonly services: readonly string[];
  readonly maxStreamsPerSession: number;
  /** HTTP/2 keepalive of the sessions to this upstream (upstream/keepalive.ts). */
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly idleConnectionTimeoutMs: number;
  readonly tls: {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly serverName: string | undefined;
  };
}

export interface GatewayConfig {
  readonly listen: {
    readonly host: string;
    readonly port: number;
    readonly tls: TlsFiles | undefined;
  };
  readonly cors: {
    readonly allowedOrigins: readonly string[];
    readonly allowCredentials: boolean;
    readonly maxAgeSeconds: number;
    readonly allowedHeaders: readonly string[];
    readonly exposedHeaders: readonly string[];
  };
  readonly upstreams: readonly UpstreamConfig[];
  readonly limits: {
    readonly maxMessageBytes: number;
    readonly maxTimeoutMs: number;
    readonly drainTimeoutMs: number;
    /** After an early response, the request body still read and dropped (edge/discard-body.ts). */
    readonly discardBodyMaxBytes: number;
    readonly discardBodyTimeoutMs: number;
  };
  readonly log: { readonly level: string };
  /** Separate listener for /metrics, /healthz, /readyz; undefined = on the main listener. */
  readonly admin: { readonly host: string; readonly port: number } | undefined;
  readonly reload: { readonly intervalMs: number };
  /**
   * Buffer reclaim (ops/buffer-reclaim.ts), opt-in: 0 = off; releaseWhenIdle
   * keeps V8's memory reducer working (ops/idle-memory.ts), on by default.
   */
  readonly memory: { readonly reclaimAfterBytes: number; readonly releaseWhenIdle: boolean };
  /** A span per call through the globally registered OpenTelemetry SDK. */
  readonly tracing: { readonly openTelemetry: boolean };
  /** The `auth` section; undefined: every method is allowed. */
  readonly auth: AuthConfig | undefined;
  /** Absolute path of `descriptorSet`, if configured. */
  readonly descriptorSet: string | undefined;
  /** The descriptor set's services and methods, read once. */
  readonly descriptors: DescriptorIndex | undefined;
  /** Gateway processes (Node cluster); 1 = no cluster. */
  readonly workers: number;
  /** Directory relative paths resolve against. */
  readonly baseDir: string;
}

type Raw = Record<string, unknown>;

export interface ValidateOptions {
  /**
   * Check what the TLS files hold (they parse, keys match, not expired), as
   * start-up does. Default true; the doctor turns it off to report each
   * certificate's problems itself instead of only the first.
   */
  readonly checkTlsMaterial?: boolean;
}

/** Reads a config file (or none) and the environment into a validated config. */
export function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  options: ValidateOptions = {},
): GatewayConfig {
  let raw: Raw = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError("--config", `cannot read ${file}: ${(err as Error).message}`);
    }
    const parsed: unknown = parseYaml(text);
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed))
        throw new ConfigError("(root)", "the config file must be a YAML mapping");
      raw = parsed as Raw;
    }
  }
  applyEnvOverrides(raw, env);
  return validateConfig(raw, file === undefined ? process.cwd() : dirname(resolve(file)), options);
}

/** Validates a raw config object (file + overrides already merged). */
export function validateConfig(
  raw: Raw,
  baseDir: string,
  options: ValidateOptions = {},
): GatewayConfig {
  checkUnknownKeys(raw);
  const v = new Reader(baseDir);
  const listen = v.section(raw, "listen");
  const cors = v.section(raw, "cors");
  const limits = v.section(raw, "limits");
  const allowedOrigins = v.strings(cors, "cors.allowedOrigins", []);
  const allowCredentials = v.bool(cors, "cors.allowCredentials", false);
  if (allowCredentials && allowedOrigins.includes("*")) {
    throw new ConfigError(
      "cors.allowedOrigins",
      '"*" cannot be used with allowCredentials: true; list the exact origins',
    );
  }
  for (const [i, origin] of allowedOrigins.entries()) {
    if (origin !== "*" && !/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError(
        `cors.allowedOrigins[${i}]`,
        `"${origin}" is not an origin like https://app.example.com (no path, no trailing slash)`,
      );
    }
  }
  const rawUpstreams = raw.upstreams;
  if (!Array.isArray(rawUpstreams) || rawUpstreams.length === 0) {
    throw new ConfigError(
      "upstreams",
      "at least one upstream is required (name, address, services, tls)",
    );
  }
  const upstreams = rawUpstreams.map((u, i) => v.upstream(u, `upstreams[${i}]`));
  const names = new Set<string>();
  for (const [i, u] of upstreams.entries()) {
    if (names.has(u.name))
      throw new ConfigError(`upstreams[${i}].name`, `"${u.name}" is used by two upstreams`);
    names.add(u.name);
  }
  const tlsRaw = listen.tls;
  const descriptorSet = readDescriptorSetPath(raw.descriptorSet, baseDir);
  const descriptors = descriptorSet === undefined ? undefined : loadDescriptorSet(descriptorSet);
  const config: GatewayConfig = {
    listen: {
      host: v.string(listen, "listen.host", "0.0.0.0"),
      port: v.int(listen, "listen.port", 8080, 0, 65535),
      tls:
        tlsRaw === undefined
          ? undefined
          : {
              certFile: v.file(v.section(listen, "listen.tls", "tls"), "listen.tls.certFile"),
              keyFile: v.file(v.section(listen, "listen.tls", "tls"), "listen.tls.keyFile"),
            },
    },
    cors: {
      allowedOrigins,
      allowCredentials,
      maxAgeSeconds: v.int(cors, "cors.maxAgeSeconds", 600, 0, 86_400),
      allowedHeaders: v.strings(cors, "cors.allowedHeaders", []).map((h) => h.toLowerCase()),
      exposedHeaders: v.strings(cors, "cors.exposedHeaders", []).map((h) => h.toLowerCase()),
    },
    upstreams,
    limits: {
      maxMessageBytes: v.int(limits, "limits.maxMessageBytes", 4 * 1024 * 1024, 1, 2 ** 31 - 1),
      maxTimeoutMs: v.int(limits, "limits.maxTimeoutMs", 300_000, 1, 2 ** 31 - 1),
      drainTimeoutMs: v.int(limits, "limits.drainTimeoutMs", 10_000, 0, 2 ** 31 - 1),
      discardBodyMaxBytes: v.int(
        limits,
        "limits.discardBodyMaxBytes",
        16 * 1024 * 1024,
        0,
        2 ** 31 - 1,
      ),
      discardBodyTimeoutMs: v.int(limits, "limits.discardBodyTimeoutMs", 10_000, 0, 2 ** 31 - 1),
    },
    log: {
      level: v.oneOf(v.section(raw, "log"), "log.level", "info", [
        "fatal",
        "error",
        "warn",
        "info",
        "debug",
        "trace",
        "silent",
      ]),
    },
    admin:
      raw.admin === undefined || raw.admin === null
        ? undefined
        : {
            host: v.string(v.section(raw, "admin"), "admin.host", "127.0.0.1"),
            port: v.int(v.section(raw, "admin"), "admin.port", 9901, 0, 65535),
          },
    reload: {
      intervalMs: v.int(v.section(raw, "reload"), "reload.intervalMs", 2000, 100, 3_600_000),
    },
    memory: {
      // Off unless asked for: it forces GCs through V8's gc extension.
      reclaimAfterBytes: v.int(
        v.section(raw, "memory"),
        "memory.reclaimAfterBytes",
        0,
        0,
        2 ** 31 - 1,
      ),
      releaseWhenIdle: v.bool(v.section(raw, "memory"), "memory.releaseWhenIdle", true),
    },
    tracing: { openTelemetry: v.bool(v.section(raw, "tracing"), "tracing.openTelemetry", false) },
    workers: readWorkers(raw.workers),
    auth:
      raw.auth === undefined || raw.auth === null
        ? undefined
        : parseAuthConfig(raw.auth, descriptors),
    descriptorSet,
    descriptors,
    baseDir,
  };
  if (options.checkTlsMaterial !== false) checkTlsMaterial(config);
  checkDpopAcrossWorkers(config);
  return config;
}

/**
 * Cluster workers share no memory: with more than one, an in-memory replay
 * store would accept a proof replayed to another worker, and per-process
 * nonce secrets would refuse each other's nonces.
 */
function checkDpopAcrossWorkers(config: GatewayConfig): void {
  const dpop = config.auth?.dpop;
  if (dpop === undefined || dpop.mode === "off" || config.workers === 1) return;
  if (dpop.replayStore === "memory") {
    throw new ConfigError(
      "auth.dpop.replayStore",
      `is "memory" but workers is ${config.workers}: a proof replayed to another worker would be accepted; use a redis:// replay store`,
    );
  }
  if (dpop.requireNonce && dpop.nonceSecret === undefined) {
    throw new ConfigError(
      "auth.dpop.nonceSecret",
      `is required with requireNonce and ${config.workers} workers, so that each accepts the others' nonces`,
    );
  }
}

/** `descriptorSet`: a file path, resolved against the config's folder. */
function readDescriptorSetPath(value: unknown, baseDir: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new ConfigError(
      "descriptorSet",
      "must be the path of a buf image / FileDescriptorSet (buf build -o image.binpb)",
    );
  }
  return resolve(baseDir, value);
}

/** The certificates and keys parse, match and have not expired, as start-up needs them. */
function checkTlsMaterial(config: GatewayConfig): void {
  const { tls } = config.listen;
  if (tls !== undefined) {
    try {
      readListenerTls(tls.certFile, tls.keyFile);
    } catch (err) {
      throw new ConfigError("listen.tls", (err as Error).message);
    }
  }
  config.upstreams.forEach((upstream, i) => {
    try {
      readUpstreamTls(upstream.tls, upstream.tls.serverName);
    } catch (err) {
      throw new ConfigError(`upstreams[${i}].tls`, (err as Error).message);
    }
  });
}

/** `workers`: a count, or "auto" for one per available core. */
function readWorkers(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (value === "auto") return availableParallelism();
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 1024)
    return value;
  throw new ConfigError(
    "workers",
    `must be a whole number from 1 to 1024 or "auto" (got ${JSON.stringify(value)})`,
  );
}

/** Typed reads that name the key on failure. */
class Reader {
  private readonly baseDir: string;
  constructor(baseDir: string) {
    this.baseDir = baseDir;
  }
  section(parent: Raw, key: string, own = key.slice(key.lastIndexOf(".") + 1)): Raw {
    const value = parent[own];
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value))
      throw new ConfigError(key, "must be a mapping");
    return value as Raw;
  }
  private own(key: string): string {
    return key.slice(key.lastIndexOf(".") + 1);
  }
  string(parent: Raw, key: string, fallback?: string): string {
    const value = parent[this.own(key)];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(key, "is required");
    }
    if (typeof value === "number") return String(value);
    if (typeof value !== "string" || value === "")
      throw new ConfigError(key, "must be a non-empty string");
    return value;
  }
  int(parent: Raw, key: string, fallback: number, min: number, max: number): number {
    const value = parent[this.own(key)] ?? fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(
        key,
        `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`,
      );
    }
    return value;
  }
  bool(parent: Raw, key: string, fallback: boolean): boolean {
    const value = parent[this.own(key)] ?? fallback;
    if (typeof value !== "boolean")
      throw new ConfigError(key, `must be true or false (got ${JSON.stringify(value)})`);
    return value;
  }
  strings(parent: Raw, key: string, fallback: string[]): string[] {
    const value = parent[this.own(key)] ?? fallback;
    if (!Array.isArray(value) || !value.every((s) => typeof s === "string" && s !== "")) {
      throw new ConfigError(key, 'must be a list of non-empty strings, e.g. ["a", "b"]');
    }
    return value as string[];
  }
  oneOf(parent: Raw, key: string, fallback: string, allowed: readonly string[]): string {
    const value = this.string(parent, key, fallback);
    if (!allowed.includes(value))
      throw new ConfigError(key, `must be one of ${allowed.join(", ")} (got "${value}")`);
    return value;
  }
  file(parent: Raw, key: string): string {
    const path = resolve(this.baseDir, this.string(parent, key));
    try {
      accessSync(path, fsConstants.R_OK);
    } catch {
      throw new ConfigError(key, `cannot read file ${path}`);
    }
    return path;
  }
  upstream(raw: unknown, key: string): UpstreamConfig {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw))
      throw new ConfigError(key, "must be a mapping");
    const u = raw as Raw;
    const name = this.string(u, `${key}.name`);
    const addressText = this.string(u, `${key}.address`);
    let address: URL;
    try {
      address = new URL(addressText);
    } catch {
      throw new ConfigError(
        `${key}.address`,
        `"${addressText}" is not a URL like https://10.0.0.5:8443`,
      );
    }
    if (address.protocol !== "https:" || (address.pathname !== "/" && address.pathname !== "")) {
      throw new ConfigError(
        `${key}.address`,
        "must be https://host:port (upstreams are reached over TLS, no path)",
      );
    }
    const services = this.strings(u, `${key}.services`, []);
    if (services.length === 0)
      throw new ConfigError(`${key}.services`, 'list the services this upstream serves, or "*"');
    for (const [i, s] of services.entries()) {
      if (s !== "*" && !/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(s)) {
        throw new ConfigError(
          `${key}.services[${i}]`,
          `"${s}" is not a fully-qualified service name like pkg.v1.Service`,
        );
      }
    }
    const tls = this.section(u, `${key}.tls`, "tls");
    const serverName =
      tls.serverName === undefined ? undefined : this.string(tls, `${key}.tls.serverName`);
    return {
      name,
      address,
      services,
      maxStreamsPerSession: this.int(u, `${key}.maxStreamsPerSession`, 1000, 1, 2 ** 31 - 1),
      // gRPC servers refuse PINGs more often than every 5 minutes by default
      // (grpc-go and grpc-java: GOAWAY too_many_pings), hence the default.
      pingIntervalMs: this.int(u, `${key}.pingIntervalMs`, 300_000, 0, 2 ** 31 - 1),
      pingTimeoutMs: this.int(u, `${key}.pingTimeoutMs`, 15_000, 1, 2 ** 31 - 1),
      idleConnectionTimeoutMs: this.int(
        u,
        `${key}.idleConnectionTimeoutMs`,
        900_000,
        0,
        2 ** 31 - 1,
      ),
      tls: {
        caFile: this.file(tls, `${key}.tls.caFile`),
        certFile: this.file(tls, `${key}.tls.certFile`),
        keyFile: this.file(tls, `${key}.tls.keyFile`),
        serverName,
      },
    };
  }
}
