/**
 * Step 4: the token, verified by the gateway's own verifier (auth/) with
 * this machine's clock, and the scopes the rule for `--method` requires.
 * The verifier stops at the first failure: checks before it passed, those
 * after it did not run. What is shown of the token (alg, kid, iss, aud,
 * times, scopes) is decoded for display only; it never prints the token.
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from "jose";
import pino from "pino";
import type { AuthConfig } from "../auth/auth-config.ts";
import { parseAuthorization } from "../auth/authorization-header.ts";
import { createKeysByIssuer, type IssuerKeys } from "../auth/issuer-keys.ts";
import { compilePolicy } from "../auth/policy.ts";
import { missingScopes, scopesOf } from "../auth/principal.ts";
import { createTokenVerifier, type VerifiedToken } from "../auth/token-verifier.ts";
import { GatewayError, type Reason } from "../errors.ts";
import { parseMethodPath } from "../routing/router.ts";
import { type Check, fail, failWith, pass, skip } from "./report.ts";

export interface TokenCheckContext {
  readonly now: () => number;
  readonly timeoutMs: number;
  /** Key ids in each issuer's JWKS (step 3), to name them when a kid is unknown. */
  readonly kids: ReadonlyMap<string, readonly string[]>;
}

/** What the token says, decoded without trusting it. */
interface Claims {
  readonly header: ProtectedHeaderParameters;
  readonly payload: JWTPayload;
}

interface TokenItem {
  readonly id: string;
  readonly title: string;
  /** The reasons the verifier fails this check with. */
  readonly reasons: readonly Reason[];
  readonly detail: (claims: Claims, auth: AuthConfig, context: TokenCheckContext) => string;
}

const list = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(", ");

/** The verifier's checks in the order it runs them (auth/token-verifier.ts). */
const ITEMS: readonly TokenItem[] = [
  {
    id: "token.decode",
    title: "decodes as a signed JWT",
    reasons: ["malformed_token", "token_too_large"],
    detail: ({ header }) =>
      `alg ${header.alg ?? "none"}, kid ${header.kid ?? "none"}, typ ${header.typ ?? "none"}`,
  },
  {
    id: "token.algorithm",
    title: "alg allowed",
    reasons: ["algorithm_not_allowed"],
    detail: ({ header, payload }, auth) =>
      `${header.alg}; allowed for this issuer: ${issuerOf(auth, payload)?.algorithms.join(", ") ?? "(issuer not configured)"}`,
  },
  {
    id: "token.issuer",
    title: "issuer",
    reasons: ["wrong_issuer"],
    detail: ({ payload }, auth) =>
      `iss ${JSON.stringify(payload.iss)}; configured: ${list(auth.issuers.map((i) => i.issuer))}`,
  },
  {
    id: "token.key",
    title: "kid known",
    reasons: ["unknown_key", "jwks_unavailable"],
    detail: ({ header, payload }, _auth, context) => {
      const kids = typeof payload.iss === "string" ? context.kids.get(payload.iss) : undefined;
      return `kid ${header.kid ?? "none"}; the issuer's JWKS has ${kids === undefined ? "(not fetched)" : list(kids)} (the gateway refetches it for an unknown kid, at most every 30 s)`;
    },
  },
  {
    id: "token.signature",
    title: "signature",
    reasons: ["bad_signature"],
    detail: () => "checked with the issuer's key",
  },
  {
    id: "token.type",
    title: "typ and binding",
    reasons: ["wrong_token_type"],
    detail: ({ header, payload }, auth) =>
      `typ ${header.typ ?? "none"} (required: ${issuerOf(auth, payload)?.tokenType ?? "not checked"})${payload.cnf === undefined ? "" : "; bound to a key (cnf)"}`,
  },
  {
    id: "token.audience",
    title: "audience",
    reasons: ["wrong_audience"],
    detail: ({ payload }, auth) =>
      `aud ${JSON.stringify(payload.aud)}; accepted: ${list(issuerOf(auth, payload)?.audiences ?? [])}`,
  },
  {
    id: "token.lifetime",
    title: "exp, nbf and iat against this machine's clock",
    reasons: ["token_expired", "token_not_yet_valid", "clock_skew"],
    detail: ({ payload }, auth, context) =>
      lifetime(payload, auth.clockToleranceSeconds, context.now()),
  },
];

const issuerOf = (auth: AuthConfig, payload: JWTPayload) =>
  auth.issuers.find((i) => i.issuer === payload.iss);

/** Each time claim against now, so that a skew is visible in seconds. */
function lifetime(payload: JWTPayload, toleranceSeconds: number, nowMs: number): string {
  const now = nowMs / 1000;
  const at = (name: "iat" | "nbf" | "exp") => {
    const t = payload[name];
    if (typeof t !== "number") return `${name} none`;
    const delta = Math.round(t - now);
    return `${name} ${new Date(t * 1000).toISOString()} (${delta > 0 ? `${delta} s ahead` : `${-delta} s ago`})`;
  };
  return `${at("iat")}, ${at("nbf")}, ${at("exp")}; this machine's clock ${new Date(nowMs).toISOString()}, tolerance ${toleranceSeconds} s`;
}

function decode(token: string): Claims | undefined {
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    return undefined;
  }
}

export async function checkToken(
  auth: AuthConfig | undefined,
  token: string | undefined,
  method: string | undefined,
  context: TokenCheckContext,
): Promise<Check[]> {
  if (token === undefined)
    return [skip("token", "token", "give --token or --token-file to check one")];
  if (auth === undefined)
    return [skip("token", "token", "no auth section: the gateway checks no tokens")];
  let verified: VerifiedToken | undefined;
  let failure: GatewayError | undefined;
  let bare = token;
  try {
    // A pasted `Bearer …` header value works too.
    bare = parseAuthorization(
      /^(bearer|dpop)\s/i.test(token.trim()) ? token : `Bearer ${token}`,
      auth.maxTokenBytes,
      auth.dpop,
    ).token;
    verified = await verify(auth, bare, context);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    failure = err;
  }
  const claims = decode(bare) ?? { header: {}, payload: {} };
  const failedAt =
    failure === undefined
      ? ITEMS.length
      : ITEMS.findIndex((item) => item.reasons.includes(failure.reason));
  // A reason no item covers (a bug: internal) leaves unknown what passed.
  const unplaced = failure !== undefined && failedAt === -1;
  const checks = ITEMS.map((item, i): Check => {
    if (unplaced || i > failedAt)
      return skip(item.id, item.title, "not checked: an earlier check failed");
    const detail = item.detail(claims, auth, context);
    if (i < failedAt) return pass(item.id, item.title, detail);
    const { reason, message } = failure as GatewayError;
    return failWith(item.id, item.title, `${message}; ${detail}`, reason);
  });
  if (unplaced && failure !== undefined)
    checks.unshift(failWith("token", "token", failure.message, failure.reason));
  return [...checks, scopesCheck(auth, method, verified)];
}

/** One verification, as the gateway would make it, with fresh keys and this machine's clock. */
async function verify(
  auth: AuthConfig,
  token: string,
  context: TokenCheckContext,
): Promise<VerifiedToken> {
  const keys = createKeysByIssuer(auth.issuers, {
    now: context.now,
    log: pino({ level: "silent" }),
    timeoutMs: context.timeoutMs,
    // A fetch may happen now: no cooldown from an earlier attempt applies.
    cooldownMs: 0,
    emptyRetryMs: 0,
  });
  try {
    return await createTokenVerifier({
      issuers: auth.issuers,
      keysFor: (issuer) => (keys.get(issuer) as IssuerKeys).getKey,
      clockToleranceSeconds: auth.clockToleranceSeconds,
      now: context.now,
      // A DPoP-bound token verifies as a token; its per-call proof is not the doctor's to check.
      dpop: auth.dpop.mode !== "off",
    })(token);
  } finally {
    for (const k of keys.values()) k.close();
  }
}

/** The rule for `--method` and whether the token has the scopes it requires. */
function scopesCheck(
  auth: AuthConfig,
  method: string | undefined,
  verified: VerifiedToken | undefined,
): Check {
  const id = "token.scopes";
  if (method === undefined)
    return skip(id, "scopes", "give --method to check the rule for a method");
  const title = `scopes for ${method}`;
  let path: ReturnType<typeof parseMethodPath>;
  try {
    path = parseMethodPath(method);
  } catch (err) {
    return failWith(id, title, (err as Error).message, "bad_path");
  }
  const decision = compilePolicy(auth.rules, auth.defaultPolicy).decide(path.path, path.service);
  if (decision.kind === "public") return pass(id, title, "the method is public: no token needed");
  if (decision.kind === "deny") {
    return failWith(
      id,
      title,
      "no rule allows the method (or a rule denies it)",
      "denied_by_policy",
    );
  }
  if (verified === undefined) return skip(id, title, "not checked: the token did not verify");
  const granted = [...scopesOf(verified.claims)];
  const required = decision.scopes.length === 0 ? "no scopes" : decision.scopes.join(" ");
  const missing = missingScopes(decision.scopes, verified.scopes);
  if (missing.length === 0)
    return pass(id, title, `requires ${required}; the token has ${granted.join(" ") || "none"}`);
  return fail({
    id,
    title,
    detail: `requires ${required}; the token has ${granted.join(" ") || "none"}, missing ${missing.join(" ")}`,
    fix: `request ${missing.join(" ")} when the token is issued (the IdP must grant it to this client)`,
    reason: "insufficient_scope",
  });
}
