/**
 * DPoP end to end at the gateway (RFC 9449), against a real oidc-provider
 * issuing DPoP-bound tokens, a real upstream over mTLS, and a real
 * redis-server shared by two gateway replicas. Each test is named after the
 * attack or outage it covers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningUpstream } from "@grpc-edge/example-upstream";
import { calculateJwkThumbprint, exportJWK } from "jose";
import { type DpopKey, dpopHeaders, newDpopKey, proofFor } from "../support/dpop.ts";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { parseWebBody, postGrpcWeb } from "../support/http.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { startRedis, type TestRedis } from "../support/redis.ts";
import { gatewayConfig, startUpstream, testPki } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";
import { NOTES } from "./harness.ts";

const ECHO = `/${NOTES}/EchoMetadata`;
const WATCH = `/${NOTES}/WatchNotes`;
const EMPTY = new Uint8Array([0, 0, 0, 0, 0]);
// WatchNotesRequest { interval_ms: 1, max_events: 2 }
const TWO_EVENTS = new Uint8Array([0, 0, 0, 0, 4, 0x08, 0x01, 0x10, 0x02]);

/** A call and what the browser would see of its status. */
async function send(
  gateway: TestGateway,
  path: string,
  headers: Record<string, string>,
  body = EMPTY,
) {
  const res = await postGrpcWeb(gateway.url, path, body, headers);
  const { messages, trailers } = parseWebBody(res.body);
  const status = res.headers["grpc-status"] ?? trailers["grpc-status"];
  return {
    status: Number(status),
    reason: res.headers["grpc-edge-reason"] ?? trailers["grpc-edge-reason"],
    challenge: res.headers["www-authenticate"],
    nonce: res.headers["dpop-nonce"],
    messages,
  };
}

describe("DPoP at the gateway", () => {
  let idp: TestOidcProvider;
  let upstream: RunningUpstream;
  let redis: TestRedis;
  let replicaA: TestGateway;
  let replicaB: TestGateway;
  let key: DpopKey;
  let token: string;

  const authFor = (dpop: Record<string, unknown>) => ({
    auth: {
      issuers: [{ issuer: idp.issuer, audiences: [idp.resource], tokenType: "at+jwt" }],
      rules: [{ methods: [`/${NOTES}/*`], policy: "authenticated" }],
      clockToleranceSeconds: 5,
      dpop,
    },
  });

  before(async () => {
    const pki = await testPki();
    [idp, upstream, redis] = await Promise.all([
      startOidcProvider(),
      startUpstream("connect-node", pki),
      startRedis(),
    ]);
    const config = gatewayConfig(
      pki,
      upstream.url,
      authFor({ mode: "allowed", replayStore: redis.url }),
    );
    [replicaA, replicaB] = await Promise.all([startGateway(config), startGateway(config)]);
    key = await newDpopKey();
    token = await idp.mintAccessToken({ scope: "notes:read", dpopKey: key });
  });
  after(async () => {
    await Promise.all([replicaA?.close(), replicaB?.close()]);
    await Promise.all([idp?.close(), upstream?.close(), redis?.stop()]);
  });

  const url = (gateway: TestGateway, path: string) => `${gateway.url}${path}`;

  it("the provider binds the token to the browser's key (cnf.jkt)", async () => {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    assert.equal(claims.cnf?.jkt, await calculateJwkThumbprint(key.publicJwk, "sha256"));
  });

  it("a bound token with a fresh proof per call: unary and streaming calls reach the upstream as the caller", async () => {
    const unary = await send(
      replicaA,
      ECHO,
      dpopHeaders(token, await proofFor(key, { url: url(replicaA, ECHO), token })),
    );
    assert.equal(unary.status, 0, JSON.stringify(unary));
    assert.match(unary.messages[0]?.toString("latin1") ?? "", /x-auth-subject/);
    const stream = await send(
      replicaA,
      WATCH,
      dpopHeaders(token, await proofFor(key, { url: url(replicaA, WATCH), token })),
      TWO_EVENTS,
    );
    assert.equal(stream.status, 0, JSON.stringify(stream));
    assert.equal(stream.messages.length, 2);
  });

  it("refuses a proof replayed to the same replica", async () => {
    const proof = await proofFor(key, { url: url(replicaA, ECHO), token });
    assert.equal((await send(replicaA, ECHO, dpopHeaders(token, proof))).status, 0);
    const replay = await send(replicaA, ECHO, dpopHeaders(token, proof));
    assert.equal(replay.status, 16);
    assert.equal(replay.reason, "dpop_proof_replayed");
    assert.match(replay.challenge ?? "", /^DPoP realm="grpc-edge", error="invalid_dpop_proof"/);
  });

  it("refuses a proof replayed to another replica that shares the Redis replay store", async () => {
    // Both replicas serve the same public URL behind a load balancer: same htu.
    const proof = await proofFor(key, { url: url(replicaA, ECHO), token });
    assert.equal((await send(replicaA, ECHO, dpopHeaders(token, proof))).status, 0);
    const res = await postGrpcWeb(replicaB.url, ECHO, EMPTY, {
      ...dpopHeaders(token, proof),
      host: new URL(replicaA.url).host,
    });
    assert.equal(res.headers["grpc-edge-reason"], "dpop_proof_replayed");
  });

  it("refuses a proof made for another URL or another method", async () => {
    const other = await send(
      replicaA,
      ECHO,
      dpopHeaders(token, await proofFor(key, { url: url(replicaA, WATCH), token })),
    );
    assert.equal(other.reason, "dpop_proof_mismatch");
    const get = await send(
      replicaA,
      ECHO,
      dpopHeaders(token, await proofFor(key, { url: url(replicaA, ECHO), token, htm: "GET" })),
    );
    assert.equal(get.reason, "dpop_proof_mismatch");
  });

  it("refuses a proof kept from earlier (stale iat)", async () => {
    const old = await proofFor(key, {
      url: url(replicaA, ECHO),
      token,
      iat: Math.floor(Date.now() / 1000) - 120,
    });
    assert.equal((await send(replicaA, ECHO, dpopHeaders(token, old))).reason, "dpop_proof_stale");
  });

  it("refuses a proof made for another access token (ath)", async () => {
    const otherToken = await idp.mintAccessToken({ scope: "notes:read", dpopKey: key });
    const proof = await proofFor(key, { url: url(replicaA, ECHO), token: otherToken });
    assert.equal(
      (await send(replicaA, ECHO, dpopHeaders(token, proof))).reason,
      "dpop_proof_mismatch",
    );
  });

  it("refuses a stolen bound token used with the thief's key", async () => {
    const thief = await newDpopKey();
    const proof = await proofFor(thief, { url: url(replicaA, ECHO), token });
    assert.equal(
      (await send(replicaA, ECHO, dpopHeaders(token, proof))).reason,
      "dpop_key_mismatch",
    );
  });

  it("refuses a stolen bound token sent as a plain Bearer token", async () => {
    const res = await send(replicaA, ECHO, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 16);
    assert.equal(res.reason, "dpop_bound_token");
  });

  it("refuses a proof whose jwk carries the private key", async () => {
    const leaked = { ...(await exportJWK(key.privateKey)) };
    const proof = await proofFor(key, { url: url(replicaA, ECHO), token, jwk: leaked });
    assert.equal(
      (await send(replicaA, ECHO, dpopHeaders(token, proof))).reason,
      "invalid_dpop_proof",
    );
  });

  it("refuses the DPoP scheme without a proof, and with a token that is not bound", async () => {
    assert.equal(
      (await send(replicaA, ECHO, { authorization: `DPoP ${token}` })).reason,
      "dpop_proof_missing",
    );
    const plain = await idp.mintAccessToken({ scope: "notes:read" });
    const proof = await proofFor(key, { url: url(replicaA, ECHO), token: plain });
    const res = await send(replicaA, ECHO, dpopHeaders(plain, proof));
    assert.equal(res.reason, "wrong_token_type");
    assert.match(
      res.challenge ?? "",
      /^DPoP realm="grpc-edge", algs="[^"]+", error="invalid_token"/,
    );
    assert.equal(
      (await send(replicaA, ECHO, { authorization: `Bearer ${plain}` })).status,
      0,
      "plain bearer still works",
    );
  });

  it("with Redis down, DPoP calls fail closed (14) while bearer calls go on; they recover when it is back", async () => {
    const plain = await idp.mintAccessToken({ scope: "notes:read" });
    await redis.stop();
    try {
      await waitFor(async () => {
        const res = await send(
          replicaA,
          ECHO,
          dpopHeaders(token, await proofFor(key, { url: url(replicaA, ECHO), token })),
        );
        return res.reason === "replay_store_unavailable";
      });
      const refused = await send(
        replicaA,
        ECHO,
        dpopHeaders(token, await proofFor(key, { url: url(replicaA, ECHO), token })),
      );
      assert.equal(refused.status, 14);
      assert.equal(refused.reason, "replay_store_unavailable");
      assert.equal((await send(replicaA, ECHO, { authorization: `Bearer ${plain}` })).status, 0);
    } finally {
      await redis.start();
    }
    await waitFor(async () => {
      const res = await send(
        replicaA,
        ECHO,
        dpopHeaders(token, await proofFor(key, { url: url(replicaA, ECHO), token })),
      );
      return res.status === 0;
    }, 10_000);
  });
});

describe("DPoP options at the gateway", () => {
  let idp: TestOidcProvider;
  let upstream: RunningUpstream;
  const gateways: TestGateway[] = [];
  let key: DpopKey;

  before(async () => {
    const pki = await testPki();
    [idp, upstream] = await Promise.all([startOidcProvider(), startUpstream("connect-node", pki)]);
    key = await newDpopKey();
    const start = async (dpop: Record<string, unknown>) => {
      const gateway = await startGateway(
        gatewayConfig(pki, upstream.url, {
          auth: {
            issuers: [{ issuer: idp.issuer, audiences: [idp.resource] }],
            rules: [{ methods: [`/${NOTES}/*`], policy: "authenticated" }],
            dpop,
          },
        }),
      );
      gateways.push(gateway);
      return gateway;
    };
    await start({ requireNonce: true });
    await start({ mode: "required", publicUrl: "https://api.example.com/grpc" });
    await start({ mode: "allowed", trustForwardedHeaders: true });
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all([idp?.close(), upstream?.close()]);
  });

  it("asks for a nonce (16 use_dpop_nonce with dpop-nonce), then accepts the proof that carries it", async () => {
    const [gateway] = gateways as [TestGateway];
    const token = await idp.mintAccessToken({ scope: "notes:read", dpopKey: key });
    const target = `${gateway.url}${ECHO}`;
    const first = await send(
      gateway,
      ECHO,
      dpopHeaders(token, await proofFor(key, { url: target, token })),
    );
    assert.equal(first.status, 16);
    assert.equal(first.reason, "use_dpop_nonce");
    assert.match(first.challenge ?? "", /error="use_dpop_nonce"/);
    assert.ok(first.nonce);
    const retried = await send(
      gateway,
      ECHO,
      dpopHeaders(token, await proofFor(key, { url: target, token, nonce: first.nonce })),
    );
    assert.equal(retried.status, 0, JSON.stringify(retried));
    const forged = await send(
      gateway,
      ECHO,
      dpopHeaders(token, await proofFor(key, { url: target, token, nonce: "0.forged" })),
    );
    assert.equal(forged.reason, "use_dpop_nonce");
  });

  it("mode required refuses bearer tokens; htu is the configured public URL", async () => {
    const gateway = gateways[1] as TestGateway;
    const plain = await idp.mintAccessToken({ scope: "notes:read" });
    const bearer = await send(gateway, ECHO, { authorization: `Bearer ${plain}` });
    assert.equal(bearer.reason, "dpop_required");
    assert.match(bearer.challenge ?? "", /^DPoP realm="grpc-edge"/);
    const token = await idp.mintAccessToken({ scope: "notes:read", dpopKey: key });
    const listenerUrl = await send(
      gateway,
      ECHO,
      dpopHeaders(token, await proofFor(key, { url: `${gateway.url}${ECHO}`, token })),
    );
    assert.equal(
      listenerUrl.reason,
      "dpop_proof_mismatch",
      "the listener's own URL is not what browsers call",
    );
    const publicUrl = await send(
      gateway,
      ECHO,
      dpopHeaders(
        token,
        await proofFor(key, { url: `https://api.example.com/grpc${ECHO}`, token }),
      ),
    );
    assert.equal(publicUrl.status, 0, JSON.stringify(publicUrl));
  });

  it("behind a trusted proxy, htu comes from X-Forwarded-Proto and X-Forwarded-Host", async () => {
    const gateway = gateways[2] as TestGateway;
    const token = await idp.mintAccessToken({ scope: "notes:read", dpopKey: key });
    const proof = await proofFor(key, { url: `https://edge.example.com${ECHO}`, token });
    const res = await send(gateway, ECHO, {
      ...dpopHeaders(token, proof),
      "x-forwarded-proto": "https",
      "x-forwarded-host": "edge.example.com",
    });
    assert.equal(res.status, 0, JSON.stringify(res));
    // The untrusting gateway ignores the same headers.
    const untrusting = gateways[0] as TestGateway;
    const other = await send(untrusting, ECHO, {
      ...dpopHeaders(token, await proofFor(key, { url: `https://edge.example.com${ECHO}`, token })),
      "x-forwarded-proto": "https",
      "x-forwarded-host": "edge.example.com",
    });
    assert.equal(other.reason, "dpop_proof_mismatch");
  });
});
