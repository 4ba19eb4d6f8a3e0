/**
 * Per-method policy (pipeline step 5). Rules are compiled once at start-up;
 * a call is matched by the most specific pattern: the exact method path,
 * then `/<Service>/*`, then `*`, then `auth.defaultPolicy`. Specificity, not
 * rule order, decides, so reordering the YAML never changes who may call what.
 */
import { ConfigError } from "../config/config-error.ts";
import type { DescriptorIndex } from "../routing/descriptor-set.ts";

export type PolicyName = "public" | "authenticated" | "deny";

/** What the auth step must do for a call. */
export type Decision =
  | { readonly kind: "public" }
  | { readonly kind: "deny" }
  | { readonly kind: "authenticated"; readonly scopes: readonly string[] };

export interface RuleConfig {
  readonly methods: readonly string[];
  readonly policy: PolicyName;
  /** Every listed scope is required (only with policy authenticated). */
  readonly scopes: readonly string[];
}

export type MethodPattern =
  | { readonly kind: "exact"; readonly path: string; readonly service: string }
  | { readonly kind: "service"; readonly service: string }
  | { readonly kind: "any" };

export interface MethodPolicy {
  /** The decision for `/<service>/<method>`; `service` is the path's first segment. */
  decide(path: string, service: string): Decision;
}

const IDENT = "[A-Za-z_][A-Za-z0-9_]*";
const PATTERN = new RegExp(`^/(${IDENT}(?:\\.${IDENT})*)/(${IDENT}|\\*)$`);

/** Parses `/pkg.Service/Method`, `/pkg.Service/*` or `*`; anything else is a ConfigError. */
export function parseMethodPattern(entry: string, key: string): MethodPattern {
  if (entry === "*") return { kind: "any" };
  const m = PATTERN.exec(entry);
  if (m === null) {
    throw new ConfigError(
      key,
      `"${entry}" is not a method pattern; use "/pkg.Service/Method", "/pkg.Service/*" or "*" (names are case-sensitive, no spaces)`,
    );
  }
  const service = m[1] as string;
  return m[2] === "*" ? { kind: "service", service } : { kind: "exact", path: entry, service };
}

function decisionOf(policy: PolicyName, scopes: readonly string[]): Decision {
  if (policy === "authenticated") return { kind: "authenticated", scopes };
  return { kind: policy };
}

/**
 * Compiles validated rules. Fails on a malformed pattern or on the same
 * pattern listed twice (which rule would win is then a guess), naming the
 * second occurrence and the first.
 */
export function compilePolicy(
  rules: readonly RuleConfig[],
  defaultPolicy: PolicyName,
  keyPrefix = "auth.rules",
): MethodPolicy {
  const exact = new Map<string, Decision>();
  const services = new Map<string, Decision>();
  let any: Decision = decisionOf(defaultPolicy, []);
  const seen = new Map<string, string>();
  rules.forEach((rule, i) => {
    const decision = decisionOf(rule.policy, rule.scopes);
    rule.methods.forEach((entry, j) => {
      const key = `${keyPrefix}[${i}].methods[${j}]`;
      const pattern = parseMethodPattern(entry, key);
      const first = seen.get(entry);
      if (first !== undefined) {
        throw new ConfigError(
          key,
          `"${entry}" is already listed at ${first}; keep one entry per method`,
        );
      }
      seen.set(entry, key);
      if (pattern.kind === "exact") exact.set(pattern.path, decision);
      else if (pattern.kind === "service") services.set(pattern.service, decision);
      else any = decision;
    });
  });
  return {
    decide(path, service) {
      return exact.get(path) ?? services.get(service) ?? any;
    },
  };
}

/**
 * With a descriptor set, a rule that names a method or service the schema
 * does not have is a typo that would silently fall through to a wider rule
 * or the default policy; fail start-up instead.
 */
export function checkRulesAgainstDescriptors(
  rules: readonly RuleConfig[],
  index: DescriptorIndex,
  keyPrefix = "auth.rules",
): void {
  rules.forEach((rule, i) => {
    rule.methods.forEach((entry, j) => {
      const key = `${keyPrefix}[${i}].methods[${j}]`;
      const pattern = parseMethodPattern(entry, key);
      if (pattern.kind === "exact" && !index.hasMethod(pattern.path)) {
        const where = index.hasService(pattern.service)
          ? `service ${pattern.service} has no such method`
          : `there is no service ${pattern.service}`;
        throw new ConfigError(
          key,
          `"${entry}" is not in the descriptor set (${where}); check the spelling or rebuild the descriptor set`,
        );
      }
      if (pattern.kind === "service" && !index.hasService(pattern.service)) {
        throw new ConfigError(
          key,
          `"${entry}": there is no service ${pattern.service} in the descriptor set; check the spelling or rebuild the descriptor set`,
        );
      }
    });
  });
}
