/**
 * Typed reads of raw YAML values for the auth section. Each read names the
 * dotted key path on failure (ConfigError), so a wrong value fails start-up
 * with the key and the fix instead of surfacing as a 500 later.
 */
import { ConfigError } from "../config/config-error.ts";

export type RawMapping = Readonly<Record<string, unknown>>;

/** A YAML mapping, or `{}` when absent and not required. */
export function mapping(value: unknown, key: string, required = false): RawMapping {
  if (value === undefined || value === null) {
    if (required) throw new ConfigError(key, "is required");
    return {};
  }
  if (typeof value !== "object" || Array.isArray(value))
    throw new ConfigError(key, "must be a mapping");
  return value as RawMapping;
}

/** Fails on a key the auth section does not know (config-keys.ts does it too, for the CLI path). */
export function knownKeys(value: RawMapping, key: string, known: readonly string[]): void {
  for (const name of Object.keys(value)) {
    if (!known.includes(name)) {
      throw new ConfigError(`${key}.${name}`, `unknown key; expected one of ${known.join(", ")}`);
    }
  }
}

export function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.trim() === "")
    throw new ConfigError(key, "must be a non-empty string");
  return value;
}

export function requiredString(value: unknown, key: string, hint: string): string {
  const s = optionalString(value, key);
  if (s === undefined) throw new ConfigError(key, `is required (${hint})`);
  return s;
}

/** A list of non-empty strings; `undefined` when absent. */
export function optionalStringList(value: unknown, key: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ConfigError(key, 'must be a list, e.g. ["a", "b"]');
  return value.map((item, i) => requiredString(item, `${key}[${i}]`, "a non-empty string"));
}

export function integer(
  value: unknown,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, `must be an integer from ${min} to ${max} (default ${fallback})`);
  }
  return value;
}

export function boolean(value: unknown, key: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean")
    throw new ConfigError(key, `must be true or false (default ${fallback})`);
  return value;
}

export function oneOf<T extends string>(
  value: unknown,
  key: string,
  allowed: readonly T[],
  fallback?: T,
): T {
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(key, `must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/**
 * True for https URLs, and for http URLs whose host is loopback (development
 * IdPs). Closed by default: there is no switch to allow plain http elsewhere,
 * because a JWKS fetched over plain http lets anyone on the path mint tokens.
 */
export function isSecureOrLoopback(url: URL): boolean {
  if (url.protocol === "https:") return true;
  if (url.protocol !== "http:") return false;
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Parses an issuer or JWKS URL: absolute, https (or loopback http), no fragment. */
export function secureUrl(value: string, key: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `"${value}" is not an absolute URL`);
  }
  if (!isSecureOrLoopback(url)) {
    throw new ConfigError(
      key,
      `"${value}" must use https (plain http is accepted only for loopback hosts)`,
    );
  }
  if (url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new ConfigError(key, `"${value}" must not contain a fragment or credentials`);
  }
  return url;
}
