/**
 * The shape of the config file: every key the gateway knows. It drives the
 * environment overrides (`GATEWAY_<KEY_PATH>`) and the unknown-key check, so
 * a typo fails start-up naming the key instead of being silently ignored.
 */
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./config-error.ts";

export type KeyNode = "leaf" | { readonly [key: string]: KeyNode } | readonly [KeyNode];

const tlsFiles = { certFile: "leaf", keyFile: "leaf" } as const;

export const configKeys: KeyNode = {
  listen: { host: "leaf", port: "leaf", tls: tlsFiles },
  cors: {
    allowedOrigins: "leaf",
    allowCredentials: "leaf",
    maxAgeSeconds: "leaf",
    allowedHeaders: "leaf",
    exposedHeaders: "leaf",
  },
  upstreams: [
    {
      name: "leaf",
      address: "leaf",
      services: "leaf",
      maxStreamsPerSession: "leaf",
      pingIntervalMs: "leaf",
      pingTimeoutMs: "leaf",
      idleConnectionTimeoutMs: "leaf",
      tls: { caFile: "leaf", certFile: "leaf", keyFile: "leaf", serverName: "leaf" },
    },
  ],
  limits: {
    maxMessageBytes: "leaf",
    maxTimeoutMs: "leaf",
    drainTimeoutMs: "leaf",
    discardBodyMaxBytes: "leaf",
    discardBodyTimeoutMs: "leaf",
  },
  log: { level: "leaf" },
  admin: { host: "leaf", port: "leaf" },
  reload: { intervalMs: "leaf" },
  memory: { reclaimAfterBytes: "leaf", releaseWhenIdle: "leaf" },
  tracing: { openTelemetry: "leaf" },
  auth: {
    issuers: [
      { issuer: "leaf", audiences: "leaf", jwksUri: "leaf", algorithms: "leaf", tokenType: "leaf" },
    ],
    clockToleranceSeconds: "leaf",
    defaultPolicy: "leaf",
    rules: [{ methods: "leaf", policy: "leaf", scopes: "leaf" }],
    forwardAuthorization: "leaf",
    identityHeaders: "leaf",
    maxTokenBytes: "leaf",
    dpop: {
      mode: "leaf",
      algorithms: "leaf",
      maxProofAgeSeconds: "leaf",
      requireNonce: "leaf",
      nonceLifetimeSeconds: "leaf",
      nonceSecret: "leaf",
      replayStore: "leaf",
      publicUrl: "leaf",
      trustForwardedHeaders: "leaf",
    },
  },
  descriptorSet: "leaf",
  workers: "leaf",
};

/** camelCase → SNAKE_CASE, as in environment variable names. */
export function toEnvSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

type Path = Array<string | number>;

/** Resolves GATEWAY_LISTEN_PORT → ["listen", "port"]; undefined if no key matches. */
export function envNameToPath(name: string, node: KeyNode = configKeys): Path | undefined {
  const walk = (segments: string[], at: KeyNode): Path | undefined => {
    if (at === "leaf") return segments.length === 0 ? [] : undefined;
    if (segments.length === 0) return undefined;
    if (Array.isArray(at)) {
      const [first, ...rest] = segments;
      if (!/^\d+$/.test(first as string)) return undefined;
      const tail = walk(rest, at[0] as KeyNode);
      return tail === undefined ? undefined : [Number(first), ...tail];
    }
    for (const [key, child] of Object.entries(at as Record<string, KeyNode>)) {
      const own = toEnvSegment(key).split("_");
      if (own.every((s, i) => segments[i] === s)) {
        const tail = walk(segments.slice(own.length), child);
        if (tail !== undefined) return [key, ...tail];
      }
    }
    return undefined;
  };
  return walk(name.split("_"), node);
}

/** The CLI's own variables: the config file's path and the Node flags (ops/node-flags.ts). */
const CLI_VARIABLES: ReadonlySet<string> = new Set(["GATEWAY_CONFIG", "GATEWAY_NODE_FLAGS"]);

/**
 * Applies GATEWAY_* variables onto the raw config. Values are read as YAML,
 * so `8080`, `true` and `["a", "b"]` keep their types. GATEWAY_CONFIG and
 * GATEWAY_NODE_FLAGS are the CLI's; any other unknown GATEWAY_ name is an error.
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("GATEWAY_") || CLI_VARIABLES.has(name) || value === undefined) continue;
    const path = envNameToPath(name.slice("GATEWAY_".length));
    if (path === undefined) {
      throw new ConfigError(
        name,
        "environment variable matches no config key (see the README's config reference)",
      );
    }
    let target: Record<string | number, unknown> = raw;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i] as string | number;
      const nextIsIndex = typeof path[i + 1] === "number";
      if (typeof target[key] !== "object" || target[key] === null)
        target[key] = nextIsIndex ? [] : {};
      target = target[key] as Record<string | number, unknown>;
    }
    target[path[path.length - 1] as string | number] = parseYaml(value);
  }
}

/** Fails on the first key the gateway does not know, suggesting the closest one. */
export function checkUnknownKeys(raw: unknown, node: KeyNode = configKeys, prefix = ""): void {
  if (node === "leaf" || raw === null || typeof raw !== "object") return;
  if (Array.isArray(node)) {
    if (!Array.isArray(raw)) return; // the typed validation reports the wrong type
    raw.forEach((item, i) => {
      checkUnknownKeys(item, node[0] as KeyNode, `${prefix}[${i}]`);
    });
    return;
  }
  const known = node as Record<string, KeyNode>;
  for (const [key, value] of Object.entries(raw)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const child = known[key];
    if (child === undefined) {
      const guess = closest(key, Object.keys(known));
      throw new ConfigError(
        path,
        `unknown key${guess === undefined ? "" : `; did you mean "${guess}"?`}`,
      );
    }
    checkUnknownKeys(value, child, path);
  }
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(
        Math.min(
          (prev[j] as number) + 1,
          (row[j - 1] as number) + 1,
          (prev[j - 1] as number) + cost,
        ),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}
