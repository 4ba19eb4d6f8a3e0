/**
 * `auth.dpop`: sender-constrained tokens (RFC 9449). Reference with defaults:
 * gateway/docs/auth.md "DPoP".
 */
import { ConfigError } from "../config/config-error.ts";
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm, parseAlgorithms } from "./algorithms.ts";
import {
  boolean,
  integer,
  knownKeys,
  mapping,
  oneOf,
  optionalString,
  secureUrl,
} from "./config-values.ts";

export type DpopMode = "off" | "allowed" | "required";

export interface DpopConfig {
  /** off: DPoP scheme and bound tokens refused; allowed: Bearer or DPoP; required: DPoP only. */
  readonly mode: DpopMode;
  readonly algorithms: readonly AsymmetricAlgorithm[];
  /** How long after its iat a proof is accepted (plus auth.clockToleranceSeconds). */
  readonly maxProofAgeSeconds: number;
  readonly requireNonce: boolean;
  /** A nonce is valid for one to two of these. */
  readonly nonceLifetimeSeconds: number;
  /** Shared by every replica so that each accepts the others' nonces; absent: random per process. */
  readonly nonceSecret: string | undefined;
  /** "memory", or a redis:// or rediss:// URL shared by the replicas. */
  readonly replayStore: string;
  /** The gateway's URL as browsers see it (scheme, host, optional path prefix), for htu. */
  readonly publicUrl: URL | undefined;
  /** Take htu's scheme and host from X-Forwarded-Proto / X-Forwarded-Host (only behind a proxy that sets them). */
  readonly trustForwardedHeaders: boolean;
  readonly maxProofBytes: number;
}

export const DPOP_OFF: DpopConfig = Object.freeze<DpopConfig>({
  mode: "off",
  algorithms: ASYMMETRIC_ALGORITHMS,
  maxProofAgeSeconds: 60,
  requireNonce: false,
  nonceLifetimeSeconds: 300,
  nonceSecret: undefined,
  replayStore: "memory",
  publicUrl: undefined,
  trustForwardedHeaders: false,
  maxProofBytes: 8192,
});

const MODES: readonly DpopMode[] = ["off", "allowed", "required"];

export function parseDpopConfig(raw: unknown): DpopConfig {
  if (raw === undefined || raw === null) return DPOP_OFF;
  const key = "auth.dpop";
  const m = mapping(raw, key, true);
  knownKeys(m, key, [
    "mode",
    "algorithms",
    "maxProofAgeSeconds",
    "requireNonce",
    "nonceLifetimeSeconds",
    "nonceSecret",
    "replayStore",
    "publicUrl",
    "trustForwardedHeaders",
  ]);
  const replayStore = optionalString(m.replayStore, `${key}.replayStore`) ?? "memory";
  if (replayStore !== "memory" && !/^rediss?:\/\/[^\s]+$/.test(replayStore)) {
    throw new ConfigError(`${key}.replayStore`, 'must be "memory" or a redis:// (rediss://) URL');
  }
  const nonceSecret = optionalString(m.nonceSecret, `${key}.nonceSecret`);
  if (nonceSecret !== undefined && nonceSecret.length < 32) {
    throw new ConfigError(`${key}.nonceSecret`, "must be at least 32 characters (random)");
  }
  const publicUrl = optionalString(m.publicUrl, `${key}.publicUrl`);
  const url = publicUrl === undefined ? undefined : secureUrl(publicUrl, `${key}.publicUrl`);
  if (url !== undefined && (url.search !== "" || url.hash !== "")) {
    throw new ConfigError(`${key}.publicUrl`, "is a base URL: no query or fragment");
  }
  return {
    mode: oneOf(m.mode, `${key}.mode`, MODES, "allowed"),
    algorithms: parseAlgorithms(m.algorithms, `${key}.algorithms`),
    maxProofAgeSeconds: integer(m.maxProofAgeSeconds, `${key}.maxProofAgeSeconds`, 60, 1, 600),
    requireNonce: boolean(m.requireNonce, `${key}.requireNonce`, false),
    nonceLifetimeSeconds: integer(
      m.nonceLifetimeSeconds,
      `${key}.nonceLifetimeSeconds`,
      300,
      10,
      86_400,
    ),
    nonceSecret,
    replayStore,
    publicUrl: url,
    trustForwardedHeaders: boolean(m.trustForwardedHeaders, `${key}.trustForwardedHeaders`, false),
    maxProofBytes: 8192,
  };
}
