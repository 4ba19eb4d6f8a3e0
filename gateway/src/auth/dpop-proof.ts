/**
 * Checks a DPoP proof for one call (RFC 9449 §4.3), cheapest checks first so
 * that a bad proof costs no signature verification, in this order:
 *
 *  1. exactly one `dpop` header, at most maxProofBytes;
 *  2. a compact JWS whose header has typ `dpop+jwt`, an asymmetric `alg` from
 *     the allowlist and a `jwk` that is a public key (a private key there is
 *     refused: whoever sent it leaked it, §4.3 point 6);
 *  3. claims jti, htm, htu, iat present; htm is the call's method and htu its
 *     URL without query or fragment, compared after normalisation (§4.3
 *     points 8-9, RFC 3986 §6.2.2-6.2.3);
 *  4. iat within maxProofAgeSeconds in the past (plus tolerance), not in the future;
 *  5. ath is the base64url SHA-256 of the access token (§4.3 point 11);
 *  6. the jwk's thumbprint (RFC 7638) is the token's cnf.jkt (§6.1);
 *  7. the signature, with that embedded key.
 *
 * A browser signs every proof with the same key, so the imported key and its
 * thumbprint are kept (LRU, by the key's members) instead of being derived
 * again on each call.
 *
 * Nonces and single use (jti) are checked by the caller (dpop-check.ts),
 * after the signature, so a forged proof cannot spend a jti.
 */
import { createHash } from "node:crypto";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
} from "jose";
import type { GatewayError, Reason } from "../errors.ts";
import type { AsymmetricAlgorithm } from "./algorithms.ts";
import { invalidProofError } from "./www-authenticate.ts";

export interface ProofRules {
  readonly algorithms: readonly AsymmetricAlgorithm[];
  readonly maxProofAgeSeconds: number;
  readonly clockToleranceSeconds: number;
  readonly maxProofBytes: number;
  readonly now: () => number;
}

/** What the proof must have been made for. */
export interface ProofTarget {
  readonly htm: string;
  /** The call's external URL, normalised (normalizeHtu). */
  readonly htu: string;
  readonly accessToken: string;
  /** The token's cnf.jkt. */
  readonly jkt: string;
}

export interface CheckedProof {
  readonly jti: string;
  readonly nonce: string | undefined;
}

/** Members only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/** scheme://host[:port]/path, lowercase scheme and host, default port dropped; undefined if not a URL. */
export function normalizeHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(access token)): the proof's ath. */
export function accessTokenHash(accessToken: string): string {
  return createHash("sha256").update(accessToken, "ascii").digest("base64url");
}

export type ProofChecker = (
  header: string | readonly string[] | undefined,
  target: ProofTarget,
) => Promise<CheckedProof>;

interface ImportedKey {
  readonly key: CryptoKey | Uint8Array;
  readonly thumbprint: string;
}

/** Keys kept: one per browser key seen recently. */
const KEY_CACHE_ENTRIES = 10_000;

/** The members RFC 7638 hashes, per key type: what identifies a public key. */
function keyId(jwk: JWK): string {
  return [jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e].join("|");
}

export function createProofChecker(rules: ProofRules): ProofChecker {
  const keys = new Map<string, ImportedKey>();
  /** The proof's key, imported once per browser key (by its members and alg). */
  const importKey = async (jwk: JWK, alg: string): Promise<ImportedKey> => {
    const id = `${alg}|${keyId(jwk)}`;
    const known = keys.get(id);
    if (known !== undefined) {
      keys.delete(id); // most recently used last
      keys.set(id, known);
      return known;
    }
    const imported = {
      key: await importJWK({ ...jwk, ext: true }, alg),
      thumbprint: await calculateJwkThumbprint(jwk, "sha256"),
    };
    keys.set(id, imported);
    if (keys.size > KEY_CACHE_ENTRIES) keys.delete(keys.keys().next().value as string);
    return imported;
  };
  const check: ProofChecker = (header, target) =>
    checkProof(header, target, rules, importKey, check);
  return check;
}

async function checkProof(
  header: string | readonly string[] | undefined,
  target: ProofTarget,
  rules: ProofRules,
  importKey: (jwk: JWK, alg: string) => Promise<ImportedKey>,
  again: ProofChecker,
): Promise<CheckedProof> {
  const refuse = (reason: Reason, message: string, cause?: unknown): GatewayError =>
    invalidProofError(reason, message, rules.algorithms, cause);

  // 1
  if (header === undefined || header === "") {
    throw refuse("dpop_proof_missing", "send a DPoP proof in the dpop header with the DPoP scheme");
  }
  if (typeof header !== "string") {
    if (header.length > 1) throw refuse("invalid_dpop_proof", "send exactly one dpop header");
    return again(header[0], target);
  }
  if (header.length > rules.maxProofBytes) {
    throw refuse("invalid_dpop_proof", `the proof is longer than ${rules.maxProofBytes} bytes`);
  }
  // 2
  if (header.split(".").length !== 3)
    throw refuse("invalid_dpop_proof", "the proof is not a signed JWT");
  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    protectedHeader = decodeProtectedHeader(header);
    claims = decodeJwt(header);
  } catch {
    throw refuse("invalid_dpop_proof", "the proof's header or payload is not base64url JSON");
  }
  if (protectedHeader.typ !== "dpop+jwt")
    throw refuse("invalid_dpop_proof", 'the proof\'s typ must be "dpop+jwt"');
  const alg = protectedHeader.alg;
  if (!(rules.algorithms as readonly unknown[]).includes(alg)) {
    throw refuse(
      "invalid_dpop_proof",
      "the proof's alg is not allowed (auth.dpop.algorithms; never none or HS*)",
    );
  }
  const jwk = protectedHeader.jwk as JWK | undefined;
  if (typeof jwk !== "object" || jwk === null)
    throw refuse("invalid_dpop_proof", "the proof has no jwk header");
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    throw refuse(
      "invalid_dpop_proof",
      "the proof's jwk must be a public key (it carries private key material)",
    );
  }
  // 3
  const { jti, htm, htu, iat, ath, nonce } = claims as Record<string, unknown>;
  if (typeof jti !== "string" || jti === "" || jti.length > 256) {
    throw refuse("invalid_dpop_proof", "the proof needs a jti (1-256 characters)");
  }
  if (typeof htm !== "string" || typeof htu !== "string" || typeof iat !== "number") {
    throw refuse("invalid_dpop_proof", "the proof needs htm, htu and iat");
  }
  if (htm !== target.htm) {
    throw refuse(
      "dpop_proof_mismatch",
      `the proof's htm is ${describe(htm)}; this call is ${target.htm}`,
    );
  }
  if (normalizeHtu(htu) !== target.htu) {
    throw refuse(
      "dpop_proof_mismatch",
      `the proof's htu is ${describe(htu)}; this call's URL is ${target.htu}`,
    );
  }
  // 4
  const nowSeconds = rules.now() / 1000;
  if (nowSeconds - iat > rules.maxProofAgeSeconds + rules.clockToleranceSeconds) {
    throw refuse(
      "dpop_proof_stale",
      `the proof was made ${Math.round(nowSeconds - iat)} s ago; proofs are accepted for ${rules.maxProofAgeSeconds} s`,
    );
  }
  if (iat - nowSeconds > rules.clockToleranceSeconds) {
    throw refuse(
      "dpop_proof_stale",
      `the proof's iat is ${Math.round(iat - nowSeconds)} s in the future; check the client's clock`,
    );
  }
  // 5
  if (ath !== accessTokenHash(target.accessToken)) {
    throw refuse("dpop_proof_mismatch", "the proof's ath is not the hash of this access token");
  }
  // 6
  let key: ImportedKey;
  try {
    key = await importKey(jwk, alg as string);
  } catch (err) {
    throw refuse(
      "invalid_dpop_proof",
      "the proof's jwk is not a valid public key for its alg",
      errorCode(err),
    );
  }
  if (key.thumbprint !== target.jkt) {
    throw refuse(
      "dpop_key_mismatch",
      "the proof is signed by another key than the one the token is bound to",
    );
  }
  // 7
  try {
    await compactVerify(header, key.key, { algorithms: [alg as string] });
  } catch (err) {
    throw refuse(
      "invalid_dpop_proof",
      "the proof's signature does not verify with its jwk",
      errorCode(err),
    );
  }
  return { jti, nonce: typeof nonce === "string" ? nonce : undefined };
}

/** A claim value for a message: short printable text only (it is the client's own input). */
function describe(value: string): string {
  return /^[\x20-\x7e]{1,200}$/.test(value) ? JSON.stringify(value) : "(unprintable)";
}

function errorCode(err: unknown): Error {
  return new Error((err as { code?: string }).code ?? "verification failed");
}
