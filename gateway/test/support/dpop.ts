/**
 * A browser's side of DPoP (RFC 9449) for tests: a key pair and a signed
 * proof for one call, bound to the access token it is sent with.
 */
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { accessTokenHash } from "../../src/auth/dpop-proof.ts";

export interface DpopKey {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function newDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

export interface ProofOptions {
  readonly url: string;
  readonly token: string;
  readonly htm?: string;
  readonly iat?: number;
  readonly nonce?: string;
  readonly jwk?: JWK;
}

/** A fresh proof (new jti) for a call to `url` with `token`. */
export function proofFor(key: DpopKey, o: ProofOptions): Promise<string> {
  return new SignJWT({
    jti: crypto.randomUUID(),
    htm: o.htm ?? "POST",
    htu: o.url,
    iat: o.iat ?? Math.floor(Date.now() / 1000),
    ath: accessTokenHash(o.token),
    ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
  })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: o.jwk ?? key.publicJwk })
    .sign(key.privateKey);
}

/** The headers of a DPoP-bound call. */
export const dpopHeaders = (token: string, proof: string) => ({
  authorization: `DPoP ${token}`,
  dpop: proof,
});
