/**
 * The `auth` section, validated once into a typed AuthConfig (the config
 * reader calls this). Every error names the dotted key path. Reference with
 * defaults: gateway/docs/auth.md.
 */
import { ConfigError } from "../config/config-error.ts";
import type { DescriptorIndex } from "../routing/descriptor-set.ts";
import { type AsymmetricAlgorithm, parseAlgorithms } from "./algorithms.ts";
import {
  boolean,
  integer,
  knownKeys,
  mapping,
  oneOf,
  optionalString,
  optionalStringList,
  requiredString,
  secureUrl,
} from "./config-values.ts";
import { type DpopConfig, parseDpopConfig } from "./dpop-config.ts";
import {
  checkRulesAgainstDescriptors,
  compilePolicy,
  type PolicyName,
  type RuleConfig,
} from "./policy.ts";

export interface IssuerConfig {
  /** Compared exactly with the token's `iss` (trailing slash included). */
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** Absent: taken from `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri: URL | undefined;
  readonly algorithms: readonly AsymmetricAlgorithm[];
  /** e.g. `at+jwt` (RFC 9068); absent: the `typ` header is not checked. */
  readonly tokenType: string | undefined;
}

export interface AuthConfig {
  readonly issuers: readonly IssuerConfig[];
  readonly clockToleranceSeconds: number;
  readonly defaultPolicy: PolicyName;
  readonly rules: readonly RuleConfig[];
  readonly forwardAuthorization: boolean;
  /** The identity metadata sent upstream after a successful check (default: all four). */
  readonly identityHeaders: readonly IdentityHeader[];
  readonly maxTokenBytes: number;
  readonly dpop: DpopConfig;
}

/** The identity metadata the gateway can send upstream (docs/auth.md "What the upstream receives"). */
export const IDENTITY_HEADERS = [
  "x-auth-subject",
  "x-auth-issuer",
  "x-auth-scopes",
  "x-auth-client-id",
] as const;
export type IdentityHeader = (typeof IDENTITY_HEADERS)[number];

export const AUTH_DEFAULTS = {
  clockToleranceSeconds: 30,
  defaultPolicy: "deny",
  forwardAuthorization: false,
  maxTokenBytes: 8192,
} as const;

const POLICIES: readonly PolicyName[] = ["deny", "authenticated", "public"];
/** RFC 6750 §3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Validates the raw YAML values (after env overrides); throws ConfigError
 * naming the key. With the descriptor set's index, rules must name methods
 * and services it has.
 */
export function parseAuthConfig(rawAuth: unknown, descriptors?: DescriptorIndex): AuthConfig {
  const auth = mapping(rawAuth, "auth", true);
  knownKeys(auth, "auth", [
    "issuers",
    "clockToleranceSeconds",
    "defaultPolicy",
    "rules",
    "forwardAuthorization",
    "identityHeaders",
    "maxTokenBytes",
    "dpop",
  ]);
  if (!Array.isArray(auth.issuers) || auth.issuers.length === 0) {
    throw new ConfigError("auth.issuers", "list at least one trusted issuer (issuer, audiences)");
  }
  const issuers = auth.issuers.map((raw, i) => parseIssuer(raw, `auth.issuers[${i}]`));
  issuers.forEach((x, i) => {
    if (issuers.findIndex((y) => y.issuer === x.issuer) !== i) {
      throw new ConfigError(
        `auth.issuers[${i}].issuer`,
        `"${x.issuer}" is listed twice; merge the entries`,
      );
    }
  });
  if (auth.rules !== undefined && auth.rules !== null && !Array.isArray(auth.rules)) {
    throw new ConfigError("auth.rules", "must be a list of rules (methods, policy, scopes)");
  }
  const rules = ((auth.rules as unknown[] | null | undefined) ?? []).map((raw, i) =>
    parseRule(raw, `auth.rules[${i}]`),
  );
  const defaultPolicy = oneOf(
    auth.defaultPolicy,
    "auth.defaultPolicy",
    POLICIES,
    AUTH_DEFAULTS.defaultPolicy,
  );
  compilePolicy(rules, defaultPolicy); // malformed or duplicate method entries fail here
  if (descriptors !== undefined) checkRulesAgainstDescriptors(rules, descriptors);
  return {
    issuers,
    clockToleranceSeconds: integer(
      auth.clockToleranceSeconds,
      "auth.clockToleranceSeconds",
      AUTH_DEFAULTS.clockToleranceSeconds,
      0,
      300,
    ),
    defaultPolicy,
    rules,
    forwardAuthorization: boolean(
      auth.forwardAuthorization,
      "auth.forwardAuthorization",
      AUTH_DEFAULTS.forwardAuthorization,
    ),
    identityHeaders: parseIdentityHeaders(auth.identityHeaders),
    maxTokenBytes: integer(
      auth.maxTokenBytes,
      "auth.maxTokenBytes",
      AUTH_DEFAULTS.maxTokenBytes,
      256,
      1_048_576,
    ),
    dpop: parseDpopConfig(auth.dpop),
  };
}

/** A list drawn from IDENTITY_HEADERS, each at most once; absent: all of them; `[]`: none. */
function parseIdentityHeaders(value: unknown): readonly IdentityHeader[] {
  const key = "auth.identityHeaders";
  if (value === undefined || value === null) return IDENTITY_HEADERS;
  if (!Array.isArray(value)) {
    throw new ConfigError(
      key,
      `must be a list drawn from ${IDENTITY_HEADERS.join(", ")} ([] sends none)`,
    );
  }
  const names = value.map((name, i) => oneOf(name, `${key}[${i}]`, IDENTITY_HEADERS));
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i)
      throw new ConfigError(`${key}[${i}]`, `${name} is listed twice; list each header once`);
  });
  return names;
}

function parseIssuer(raw: unknown, key: string): IssuerConfig {
  const m = mapping(raw, key, true);
  knownKeys(m, key, ["issuer", "audiences", "jwksUri", "algorithms", "tokenType"]);
  const issuer = requiredString(
    m.issuer,
    `${key}.issuer`,
    "the IdP's issuer URL, exactly as in its tokens' iss",
  );
  const issuerUrl = secureUrl(issuer, `${key}.issuer`);
  if (issuerUrl.search !== "")
    throw new ConfigError(
      `${key}.issuer`,
      "an issuer URL has no query (OpenID Connect Discovery §2)",
    );
  const audiences = optionalStringList(m.audiences, `${key}.audiences`);
  if (audiences === undefined || audiences.length === 0) {
    throw new ConfigError(
      `${key}.audiences`,
      'list at least one audience the gateway accepts (the token\'s aud), e.g. ["api://notes"]',
    );
  }
  const jwksUri = optionalString(m.jwksUri, `${key}.jwksUri`);
  return {
    issuer,
    audiences,
    jwksUri: jwksUri === undefined ? undefined : secureUrl(jwksUri, `${key}.jwksUri`),
    algorithms: parseAlgorithms(m.algorithms, `${key}.algorithms`),
    tokenType: optionalString(m.tokenType, `${key}.tokenType`),
  };
}

function parseRule(raw: unknown, key: string): RuleConfig {
  const m = mapping(raw, key, true);
  knownKeys(m, key, ["methods", "policy", "scopes"]);
  const methods = optionalStringList(m.methods, `${key}.methods`);
  if (methods === undefined || methods.length === 0) {
    throw new ConfigError(
      `${key}.methods`,
      'list at least one method pattern, e.g. ["/pkg.Service/Method"]',
    );
  }
  const policy =
    m.policy === undefined || m.policy === null
      ? undefined
      : oneOf(m.policy, `${key}.policy`, POLICIES);
  const scopes = optionalStringList(m.scopes, `${key}.scopes`);
  scopes?.forEach((scope, i) => {
    if (!SCOPE_TOKEN.test(scope))
      throw new ConfigError(
        `${key}.scopes[${i}]`,
        `"${scope}" is not a scope (no spaces, quotes or backslashes)`,
      );
  });
  if (scopes !== undefined && (policy === "public" || policy === "deny")) {
    throw new ConfigError(
      `${key}.scopes`,
      `scopes need a token, but policy is ${policy}; remove scopes or use policy: authenticated`,
    );
  }
  if (scopes !== undefined && scopes.length === 0) {
    throw new ConfigError(`${key}.scopes`, "is empty; list the required scopes or remove the key");
  }
  if (policy === undefined && scopes === undefined) {
    throw new ConfigError(
      `${key}.policy`,
      "a rule needs a policy (public, authenticated, deny) or scopes (authenticated + those scopes)",
    );
  }
  // `scopes` without a policy means authenticated + every listed scope.
  return { methods, policy: policy ?? "authenticated", scopes: scopes ?? [] };
}
