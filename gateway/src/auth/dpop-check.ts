/**
 * Proof of possession for one call with a DPoP-bound token (RFC 9449 §7):
 * the proof checks (dpop-proof.ts) against the URL the browser called, then
 * the server nonce when required (§9), then single use of its jti (§11.1),
 * last, so that a proof that fails any other check spends nothing.
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "pino";
import type { DpopConfig } from "./dpop-config.ts";
import { createDpopNonces, type DpopNonces } from "./dpop-nonce.ts";
import { createProofChecker, normalizeHtu } from "./dpop-proof.ts";
import { createRedisReplayStore } from "./redis-replay-store.ts";
import { createMemoryReplayStore, type ReplayStore } from "./replay-store.ts";
import { invalidProofError, useNonceError } from "./www-authenticate.ts";

/** Where a call was addressed, as the listener saw it. */
export interface CallTarget {
  readonly path: string;
  readonly method: string;
  /** "http" or "https": the listener's scheme. */
  readonly scheme: string;
  /** The Host (HTTP/1.1) or :authority (HTTP/2) the browser sent. */
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export interface DpopCheck {
  /** Resolves when the call's proof shows possession of the key `jkt` for `accessToken`. */
  verify(call: CallTarget, accessToken: string, jkt: string): Promise<void>;
  close(): Promise<void>;
}

export interface DpopCheckDeps {
  readonly log: Logger;
  readonly now: () => number;
  readonly clockToleranceSeconds: number;
}

const first = (value: string | string[] | undefined) =>
  (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim() || undefined;

export function createDpopCheck(config: DpopConfig, deps: DpopCheckDeps): DpopCheck {
  const checkProof = createProofChecker({
    algorithms: config.algorithms,
    maxProofAgeSeconds: config.maxProofAgeSeconds,
    clockToleranceSeconds: deps.clockToleranceSeconds,
    maxProofBytes: config.maxProofBytes,
    now: deps.now,
  });
  const replays: ReplayStore =
    config.replayStore === "memory"
      ? createMemoryReplayStore(deps.now)
      : createRedisReplayStore({ url: config.replayStore, log: deps.log });
  const nonces: DpopNonces | undefined = config.requireNonce
    ? createDpopNonces({
        secret:
          config.nonceSecret === undefined ? randomBytes(32) : Buffer.from(config.nonceSecret),
        slotMs: config.nonceLifetimeSeconds * 1000,
        now: deps.now,
      })
    : undefined;
  // A jti is remembered as long as its proof could still be accepted.
  const replayWindowMs = (config.maxProofAgeSeconds + 2 * deps.clockToleranceSeconds) * 1000;
  const publicBase =
    config.publicUrl && `${config.publicUrl.origin}${config.publicUrl.pathname.replace(/\/$/, "")}`;

  /** The URL the browser called (htu): the configured public URL, forwarded headers, or the listener's view. */
  const externalUrl = (call: CallTarget): string | undefined => {
    if (publicBase !== undefined) return normalizeHtu(`${publicBase}${call.path}`);
    let scheme = call.scheme;
    let host = call.host;
    if (config.trustForwardedHeaders) {
      scheme = first(call.headers["x-forwarded-proto"]) ?? scheme;
      host = first(call.headers["x-forwarded-host"]) ?? host;
    }
    return host === undefined ? undefined : normalizeHtu(`${scheme}://${host}${call.path}`);
  };

  return {
    async verify(call, accessToken, jkt) {
      const htu = externalUrl(call);
      if (htu === undefined) {
        throw invalidProofError(
          "dpop_proof_mismatch",
          "the request has no Host to check the proof's htu against",
          config.algorithms,
        );
      }
      const proof = await checkProof(call.headers.dpop, {
        htm: call.method,
        htu,
        accessToken,
        jkt,
      });
      if (nonces !== undefined && !nonces.accepts(proof.nonce)) {
        throw useNonceError(nonces.current(), config.algorithms);
      }
      const key = createHash("sha256").update(`${jkt} ${proof.jti}`).digest("base64url");
      if (!(await replays.claim(key, replayWindowMs))) {
        throw invalidProofError(
          "dpop_proof_replayed",
          "this proof (its jti) was already used; make a fresh proof per call",
          config.algorithms,
        );
      }
    },
    close: () => replays.close(),
  };
}
