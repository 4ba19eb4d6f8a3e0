/**
 * Step 3: each issuer's discovery document and JWKS, fetched the way the
 * gateway fetches them (same requests, same refusals), whether their keys
 * can verify the configured algorithms, and this machine's clock against
 * the IdP's (its HTTP Date header): tokens are checked against this clock.
 */
import { importJWK, type JWK } from "jose";
import type { AuthConfig, IssuerConfig } from "../auth/auth-config.ts";
import { discoverJwksUri, fetchJson } from "../auth/discovery.ts";
import { type Check, fail, pass, skip, warn } from "./report.ts";

export interface IssuerCheckContext {
  readonly now: () => number;
  readonly timeoutMs: number;
}

/** The checks, and the key ids each issuer's JWKS holds (for the token check). */
export async function checkIssuers(
  auth: AuthConfig | undefined,
  context: IssuerCheckContext,
): Promise<{ readonly checks: Check[]; readonly kids: ReadonlyMap<string, readonly string[]> }> {
  if (auth === undefined) {
    return {
      checks: [
        warn({
          id: "auth",
          title: "auth section",
          detail: "none: every method is allowed without a token",
          fix: "add an auth section before exposing the gateway (gateway/docs/auth.md)",
        }),
      ],
      kids: new Map(),
    };
  }
  const kids = new Map<string, readonly string[]>();
  const each = await Promise.all(
    auth.issuers.map(async (issuer, i) => {
      const result = await checkIssuer(issuer, i, auth.clockToleranceSeconds, context);
      if (result.kids !== undefined) kids.set(issuer.issuer, result.kids);
      return result.checks;
    }),
  );
  return { checks: each.flat(), kids };
}

async function checkIssuer(
  issuer: IssuerConfig,
  i: number,
  toleranceSeconds: number,
  context: IssuerCheckContext,
): Promise<{ checks: Check[]; kids?: string[] | undefined }> {
  const id = `issuer.${i}`;
  const key = `auth.issuers[${i}]`;
  const title = (what: string) => `${issuer.issuer}: ${what}`;
  const unreachable = (what: string, detail: string, fix: string): Check =>
    fail({ id: `${id}.${what}`, title: title(what), detail, fix, reason: "jwks_unavailable" });
  let jwksUri: URL;
  let discovery: Check;
  if (issuer.jwksUri !== undefined) {
    jwksUri = issuer.jwksUri;
    discovery = pass(`${id}.discovery`, title("discovery"), `not used: ${key}.jwksUri is set`);
  } else {
    try {
      jwksUri = await discoverJwksUri(issuer.issuer, { timeoutMs: context.timeoutMs });
      discovery = pass(`${id}.discovery`, title("discovery"), `jwks_uri ${jwksUri.href}`);
    } catch (err) {
      const message = (err as Error).message;
      const fix = message.includes("names issuer")
        ? `set ${key}.issuer to exactly the issuer the document names (tokens carry the same value in iss)`
        : `check that the IdP answers ${issuer.issuer}/.well-known/openid-configuration from this machine, or set ${key}.jwksUri`;
      return {
        checks: [
          unreachable("discovery", message, fix),
          skip(`${id}.keys`, title("keys"), "no jwks_uri"),
          skip(`${id}.clock`, title("clock"), "the IdP did not answer"),
        ],
      };
    }
  }
  let jwks: unknown;
  try {
    jwks = await fetchJson(jwksUri, { timeoutMs: context.timeoutMs });
  } catch (err) {
    return {
      checks: [
        discovery,
        unreachable("keys", (err as Error).message, `check that the IdP serves ${jwksUri.href}`),
        skip(`${id}.clock`, title("clock"), "the IdP did not answer"),
      ],
    };
  }
  const keys = await keysCheck(`${id}.keys`, title("keys"), key, jwks, issuer.algorithms);
  const clock = await clockCheck(`${id}.clock`, title("clock"), jwksUri, toleranceSeconds, context);
  return { checks: [discovery, keys.check, clock], kids: keys.kids };
}

/** The algorithms a JWK can verify, by its `alg` or else its key type and curve. */
function algorithmsOf(jwk: JWK): string[] {
  if (jwk.use !== undefined && jwk.use !== "sig") return [];
  if (typeof jwk.alg === "string") return [jwk.alg];
  if (jwk.kty === "RSA") return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
  if (jwk.kty === "EC")
    return (
      ({ "P-256": ["ES256"], "P-384": ["ES384"], "P-521": ["ES512"] } as Record<string, string[]>)[
        jwk.crv ?? ""
      ] ?? []
    );
  if (jwk.kty === "OKP") return ["EdDSA"];
  return [];
}

async function keysCheck(
  id: string,
  title: string,
  key: string,
  jwks: unknown,
  allowed: readonly string[],
): Promise<{ check: Check; kids?: string[] | undefined }> {
  const list = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0) {
    return {
      check: fail({
        id,
        title,
        detail: "the JWKS holds no keys",
        fix: "check the IdP's signing keys",
        reason: "jwks_unavailable",
      }),
    };
  }
  const usable: string[] = [];
  const other: string[] = [];
  for (const jwk of list as JWK[]) {
    const name = `${jwk.kid ?? "(no kid)"} (${jwk.alg ?? jwk.kty})`;
    const alg = algorithmsOf(jwk).find((a) => allowed.includes(a));
    if (alg !== undefined && (await imports(jwk, alg))) usable.push(name);
    else other.push(name);
  }
  const kids = (list as JWK[]).flatMap((jwk) => (typeof jwk.kid === "string" ? [jwk.kid] : []));
  const note =
    other.length === 0 ? "" : `; not usable for ${allowed.join(", ")}: ${other.join(", ")}`;
  if (usable.length === 0) {
    return {
      check: fail({
        id,
        title,
        detail: `no key can verify ${allowed.join(", ")}${note}`,
        fix: `add the IdP's signing algorithm to ${key}.algorithms, or have the IdP sign with one of those`,
        reason: "algorithm_not_allowed",
      }),
      kids,
    };
  }
  return { check: pass(id, title, `usable: ${usable.join(", ")}${note}`), kids };
}

async function imports(jwk: JWK, alg: string): Promise<boolean> {
  try {
    await importJWK(jwk, alg);
    return true;
  } catch {
    return false;
  }
}

/**
 * This machine's clock against the IdP's Date header (whole seconds, so
 * the comparison is good to about a second plus the round trip).
 */
async function clockCheck(
  id: string,
  title: string,
  url: URL,
  toleranceSeconds: number,
  context: IssuerCheckContext,
): Promise<Check> {
  let date: string | null;
  const sentMs = context.now();
  let receivedMs: number;
  try {
    const res = await fetch(url, {
      redirect: "error",
      signal: AbortSignal.timeout(context.timeoutMs),
    });
    receivedMs = context.now();
    date = res.headers.get("date");
    await res.body?.cancel();
  } catch (err) {
    return skip(id, title, `the IdP did not answer (${(err as Error).message})`);
  }
  const idpMs = date === null ? Number.NaN : Date.parse(date) + 500;
  if (Number.isNaN(idpMs)) return skip(id, title, "the IdP sends no Date header to compare with");
  const skewSeconds = Math.round(((sentMs + receivedMs) / 2 - idpMs) / 1000);
  const direction = skewSeconds > 0 ? "ahead of" : "behind";
  const detail =
    skewSeconds === 0
      ? "this machine's clock agrees with the IdP's (Date header, ±1 s)"
      : `this machine's clock is ${Math.abs(skewSeconds)} s ${direction} the IdP's (Date header, ±1 s)`;
  if (Math.abs(skewSeconds) <= toleranceSeconds) {
    return pass(id, title, `${detail}; tolerance ${toleranceSeconds} s`);
  }
  return fail({
    id,
    title,
    detail: `${detail}, beyond auth.clockToleranceSeconds (${toleranceSeconds} s): ${
      skewSeconds > 0
        ? "fresh tokens look expired (token_expired)"
        : "fresh tokens look issued in the future (clock_skew)"
    }`,
    fix: "synchronise both machines' clocks (NTP); run doctor on the gateway's machine",
    reason: "clock_skew",
  });
}
