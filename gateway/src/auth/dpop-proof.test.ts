// DPoP proof checks (RFC 9449 §4.3), each test named after the attack it
// stops, with real keys and signatures (jose) and an injected clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from "jose";
import { GatewayError } from "../errors.ts";
import { ASYMMETRIC_ALGORITHMS } from "./algorithms.ts";
import {
  accessTokenHash,
  createProofChecker,
  normalizeHtu,
  type ProofRules,
  type ProofTarget,
} from "./dpop-proof.ts";

const NOW = 1_800_000_000_000;
const URL_ = "https://gw.example.com/demo.notes.v1.NotesService/GetNote";
const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";

const rules: ProofRules = {
  algorithms: ASYMMETRIC_ALGORITHMS,
  maxProofAgeSeconds: 60,
  clockToleranceSeconds: 5,
  maxProofBytes: 8192,
  now: () => NOW,
};

// One checker for the whole file, as the gateway keeps one: its key cache is
// part of what is tested (a cached key must not let a forged proof through).
const checker = createProofChecker(rules);
const checkDpopProof = (
  header: string | readonly string[] | undefined,
  target: ProofTarget,
  custom?: ProofRules,
) => (custom === undefined ? checker : createProofChecker(custom))(header, target);

interface Holder {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly jkt: string;
}

async function holder(alg: "ES256" | "RS256" = "ES256"): Promise<Holder> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, "sha256") };
}

/** A proof as a browser would make it, with overrides for the attacks. */
function proof(
  signer: Holder,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    jti: crypto.randomUUID(),
    htm: "POST",
    htu: URL_,
    iat: Math.floor(NOW / 1000),
    ath: accessTokenHash(TOKEN),
    ...claims,
  })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: signer.jwk, ...header })
    .sign(signer.privateKey);
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, String(err));
    return err;
  }
  assert.fail("expected the proof to be refused");
}

const target = (jkt: string) => ({ htm: "POST", htu: URL_, accessToken: TOKEN, jkt });

describe("DPoP proof checks", () => {
  it("accepts a fresh proof made for this call, token and key", async () => {
    const key = await holder();
    const checked = await checkDpopProof(await proof(key, { nonce: "n1" }), target(key.jkt));
    assert.equal(checked.nonce, "n1");
    assert.match(checked.jti, /^[0-9a-f-]{36}$/);
  });

  it("refuses a proof captured from one call and sent with another URL (htu)", async () => {
    const key = await holder();
    const other = await proof(key, {
      htu: "https://gw.example.com/demo.notes.v1.NotesService/DeleteNote",
    });
    const err = await refusal(checkDpopProof(other, target(key.jkt)));
    assert.equal(err.reason, "dpop_proof_mismatch");
    assert.equal(err.code, 16);
    assert.match(
      err.headers["www-authenticate"] ?? "",
      /^DPoP realm="grpc-edge", error="invalid_dpop_proof", error_description="dpop_proof_mismatch", algs="RS256/,
    );
  });

  it("refuses a proof made for another HTTP method (htm)", async () => {
    const key = await holder();
    const err = await refusal(checkDpopProof(await proof(key, { htm: "GET" }), target(key.jkt)));
    assert.equal(err.reason, "dpop_proof_mismatch");
  });

  it("compares htu after normalisation and ignores its query and fragment", async () => {
    const key = await holder();
    const spelled = await proof(key, {
      htu: "HTTPS://GW.example.com:443/demo.notes.v1.NotesService/GetNote?x=1#f",
    });
    await checkDpopProof(spelled, target(key.jkt));
    assert.equal(normalizeHtu("http://127.0.0.1:80/a/b"), "http://127.0.0.1/a/b");
    assert.equal(normalizeHtu("not a url"), undefined);
  });

  it("refuses a stale proof kept for later use, and one dated in the future", async () => {
    const key = await holder();
    const old = await proof(key, { iat: Math.floor(NOW / 1000) - 66 });
    assert.equal((await refusal(checkDpopProof(old, target(key.jkt)))).reason, "dpop_proof_stale");
    const future = await proof(key, { iat: Math.floor(NOW / 1000) + 6 });
    assert.equal(
      (await refusal(checkDpopProof(future, target(key.jkt)))).reason,
      "dpop_proof_stale",
    );
    const edge = await proof(key, { iat: Math.floor(NOW / 1000) - 64 });
    await checkDpopProof(edge, target(key.jkt));
  });

  it("refuses a proof made for another access token (ath)", async () => {
    const key = await holder();
    const err = await refusal(
      checkDpopProof(await proof(key, { ath: accessTokenHash("another") }), target(key.jkt)),
    );
    assert.equal(err.reason, "dpop_proof_mismatch");
    const none = await refusal(
      checkDpopProof(await proof(key, { ath: undefined }), target(key.jkt)),
    );
    assert.equal(none.reason, "dpop_proof_mismatch");
  });

  it("refuses a stolen token used with the thief's own key (thumbprint is not cnf.jkt)", async () => {
    const victim = await holder();
    const thief = await holder();
    const err = await refusal(checkDpopProof(await proof(thief), target(victim.jkt)));
    assert.equal(err.reason, "dpop_key_mismatch");
  });

  it("refuses the victim's public key in the header with the thief's signature, even once the victim's key is cached", async () => {
    const victim = await holder();
    const thief = await holder();
    await checkDpopProof(await proof(victim), target(victim.jkt));
    const forged = await proof({ ...thief, jwk: victim.jwk, jkt: victim.jkt });
    const err = await refusal(checkDpopProof(forged, target(victim.jkt)));
    assert.equal(err.reason, "invalid_dpop_proof");
  });

  it("refuses a proof that carries a private key in its jwk", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const { d: _, ...publicJwk } = privateJwk;
    const signer = {
      privateKey,
      jwk: privateJwk,
      jkt: await calculateJwkThumbprint(publicJwk, "sha256"),
    };
    const err = await refusal(checkDpopProof(await proof(signer), target(signer.jkt)));
    assert.equal(err.reason, "invalid_dpop_proof");
    assert.match(err.message, /public key/);
  });

  it("refuses a proof without typ dpop+jwt (e.g. an ID token or access token passed as a proof)", async () => {
    const key = await holder();
    const err = await refusal(
      checkDpopProof(await proof(key, {}, { typ: "JWT" }), target(key.jkt)),
    );
    assert.equal(err.reason, "invalid_dpop_proof");
  });

  it("refuses unsigned and HMAC proofs (alg none, HS256) and algorithms off the allowlist", async () => {
    const key = await holder();
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const claims = {
      jti: "j",
      htm: "POST",
      htu: URL_,
      iat: NOW / 1000,
      ath: accessTokenHash(TOKEN),
    };
    for (const alg of ["none", "HS256"]) {
      const unsigned = `${b64({ alg, typ: "dpop+jwt", jwk: key.jwk })}.${b64(claims)}.`;
      assert.equal(
        (await refusal(checkDpopProof(unsigned, target(key.jkt)))).reason,
        "invalid_dpop_proof",
        alg,
      );
    }
    const rsa = await holder("RS256");
    const rs = await proof(rsa, {}, { alg: "RS256" });
    const err = await refusal(
      checkDpopProof(rs, target(rsa.jkt), {
        ...rules,
        algorithms: ["ES256"],
      }),
    );
    assert.equal(err.reason, "invalid_dpop_proof");
    assert.match(err.headers["www-authenticate"] ?? "", /algs="ES256"/);
  });

  it("refuses a missing proof, two proofs, and a proof that is not a JWT", async () => {
    const key = await holder();
    assert.equal(
      (await refusal(checkDpopProof(undefined, target(key.jkt)))).reason,
      "dpop_proof_missing",
    );
    const one = await proof(key);
    assert.equal(
      (await refusal(checkDpopProof([one, one], target(key.jkt)))).reason,
      "invalid_dpop_proof",
    );
    assert.equal(
      (await refusal(checkDpopProof("garbage", target(key.jkt)))).reason,
      "invalid_dpop_proof",
    );
    const huge = await proof(key, { pad: "x".repeat(9000) });
    assert.equal(
      (await refusal(checkDpopProof(huge, target(key.jkt)))).reason,
      "invalid_dpop_proof",
    );
  });
});
