/**
 * JWS algorithms the gateway accepts: asymmetric only (RFC 8725 §3.1). `none`
 * is an unsigned token; HS* verified with a key from a JWKS would use the
 * issuer's *public* key as the HMAC secret, which anyone can do (the
 * key-confusion attack), so neither can be configured.
 */
import { ConfigError } from "../config/config-error.ts";
import { optionalStringList } from "./config-values.ts";

/** The default allowlist and the only algorithms that may be listed. */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const ASYMMETRIC: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS);

export function isAsymmetricAlgorithm(alg: unknown): alg is AsymmetricAlgorithm {
  return typeof alg === "string" && ASYMMETRIC.has(alg);
}

/** `auth.issuers[].algorithms`: absent → every asymmetric algorithm. */
export function parseAlgorithms(raw: unknown, key: string): readonly AsymmetricAlgorithm[] {
  const list = optionalStringList(raw, key);
  if (list === undefined) return ASYMMETRIC_ALGORITHMS;
  if (list.length === 0) {
    throw new ConfigError(
      key,
      "must list at least one algorithm, or be omitted for all asymmetric ones",
    );
  }
  list.forEach((alg, i) => {
    if (!isAsymmetricAlgorithm(alg)) {
      const why = /^(none|HS\d+)$/i.test(alg)
        ? "is never accepted (none is unsigned; HS* with a public key is the key-confusion attack)"
        : "is not an asymmetric JWS algorithm";
      throw new ConfigError(
        `${key}[${i}]`,
        `"${alg}" ${why}; use ${ASYMMETRIC_ALGORITHMS.join(", ")}`,
      );
    }
  });
  return list as AsymmetricAlgorithm[];
}
