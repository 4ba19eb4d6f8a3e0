/**
 * OpenID Connect Discovery 1.0 (§4) and the bounded JSON fetch used for it
 * and for the JWKS. Redirects are refused (a redirect could downgrade to
 * plain http or leave the issuer's host), bodies are size-capped, and every
 * request has a timeout.
 */
import { isSecureOrLoopback } from "./config-values.ts";

/** Discovery documents and key sets are a few KiB; 1 MiB is generous. */
export const MAX_JSON_BYTES = 1_048_576;

export class FetchError extends Error {
  override readonly name = "FetchError";
}

export interface FetchJsonOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** GETs a URL and parses JSON; throws FetchError with a log-safe message. */
export async function fetchJson(url: URL, options: FetchJsonOptions): Promise<unknown> {
  const signals = [AbortSignal.timeout(options.timeoutMs)];
  if (options.signal !== undefined) signals.push(options.signal);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "GET",
      redirect: "error",
      signal: AbortSignal.any(signals),
      headers: { accept: "application/json, application/jwk-set+json" },
    });
  } catch (err) {
    const why =
      err instanceof Error
        ? err.cause instanceof Error
          ? err.cause.message
          : err.message
        : "error";
    throw new FetchError(`GET ${url.href} failed: ${why}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new FetchError(`GET ${url.href} answered HTTP ${res.status}`);
  }
  const text = await readCapped(res, url);
  try {
    return JSON.parse(text);
  } catch {
    throw new FetchError(`GET ${url.href} did not return JSON`);
  }
}

async function readCapped(res: Response, url: URL): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_JSON_BYTES) {
    await res.body?.cancel();
    throw new FetchError(`GET ${url.href}: body larger than ${MAX_JSON_BYTES} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_JSON_BYTES)
      throw new FetchError(`GET ${url.href}: body larger than ${MAX_JSON_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `<issuer>/.well-known/openid-configuration`, trailing slash of the issuer removed first (§4). */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
}

/**
 * Fetches the issuer's discovery document and returns its `jwks_uri`. The
 * document's `issuer` must equal the configured one exactly (§4.3): it
 * stops a look-alike document from substituting another issuer's keys.
 */
export async function discoverJwksUri(issuer: string, options: FetchJsonOptions): Promise<URL> {
  const url = discoveryUrl(issuer);
  const doc = await fetchJson(url, options);
  if (doc === null || typeof doc !== "object")
    throw new FetchError(`${url.href} is not a JSON object`);
  const { issuer: docIssuer, jwks_uri: jwksUri } = doc as Record<string, unknown>;
  if (docIssuer !== issuer) {
    throw new FetchError(
      `${url.href} names issuer ${JSON.stringify(docIssuer)}, not the configured ${JSON.stringify(issuer)}`,
    );
  }
  if (typeof jwksUri !== "string") throw new FetchError(`${url.href} has no jwks_uri`);
  let parsed: URL;
  try {
    parsed = new URL(jwksUri);
  } catch {
    throw new FetchError(`${url.href}: jwks_uri is not a URL`);
  }
  if (!isSecureOrLoopback(parsed))
    throw new FetchError(`${url.href}: jwks_uri ${jwksUri} is not https`);
  return parsed;
}
