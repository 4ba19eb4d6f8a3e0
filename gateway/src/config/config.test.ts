import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { ensureDevPki } from "@grpc-edge/example-upstream";
import { loadConfig } from "./config.ts";
import { ConfigError } from "./config-error.ts";
import { envNameToPath } from "./config-keys.ts";

const dir = mkdtempSync(join(tmpdir(), "gw-config-"));
// Real certificates: the reader checks that they parse and that key and certificate match.
const pki = await ensureDevPki({ dir: join(dir, "pki"), log: () => {} });
writeFileSync(join(dir, "ca.crt"), pki.ca);
writeFileSync(join(dir, "client.crt"), pki.clientCert);
writeFileSync(join(dir, "client.key"), pki.clientKey);
writeFileSync(join(dir, "server.key"), pki.serverKey);
writeFileSync(
  join(dir, "broken.crt"),
  "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
);
writeFileSync(
  join(dir, "image.binpb"),
  toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, {
      file: [
        {
          name: "notes.proto",
          package: "demo.notes.v1",
          service: [{ name: "NotesService", method: [{ name: "GetNote" }] }],
        },
      ],
    }),
  ),
);

function write(yaml: string): string {
  const file = join(dir, `c${Math.random()}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

const minimal = `
listen: { host: 127.0.0.1, port: 8080 }
upstreams:
  - name: notes
    address: https://127.0.0.1:9443
    services: ["demo.notes.v1.NotesService"]
    tls: { caFile: ca.crt, certFile: client.crt, keyFile: client.key }
`;

function rejectsKey(yaml: string, key: string, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => loadConfig(write(yaml), env),
    (e: unknown) => e instanceof ConfigError && e.key === key,
    key,
  );
}

describe("loadConfig", () => {
  it("applies defaults and resolves files against the config's folder", () => {
    const c = loadConfig(write(minimal), {});
    assert.equal(c.listen.port, 8080);
    assert.equal(c.limits.maxMessageBytes, 4194304);
    assert.equal(c.limits.maxTimeoutMs, 300000);
    assert.equal(c.limits.discardBodyMaxBytes, 16 * 1024 * 1024);
    assert.equal(c.limits.discardBodyTimeoutMs, 10_000);
    assert.equal(c.cors.maxAgeSeconds, 600);
    assert.equal(c.memory.reclaimAfterBytes, 0);
    assert.equal(c.memory.releaseWhenIdle, true);
    assert.equal(c.upstreams[0]?.tls.caFile, join(dir, "ca.crt"));
    assert.equal(c.upstreams[0]?.pingIntervalMs, 300_000);
    assert.equal(c.upstreams[0]?.pingTimeoutMs, 15_000);
    assert.equal(c.upstreams[0]?.idleConnectionTimeoutMs, 900_000);
  });

  it("lets GATEWAY_<KEY_PATH> override any key, typed as YAML", () => {
    const c = loadConfig(write(minimal), {
      GATEWAY_LISTEN_PORT: "9090",
      GATEWAY_LIMITS_MAX_MESSAGE_BYTES: "1024",
      GATEWAY_CORS_ALLOWED_ORIGINS: '["http://localhost:5173"]',
      GATEWAY_UPSTREAMS_0_ADDRESS: "https://127.0.0.1:9444",
      GATEWAY_MEMORY_RECLAIM_AFTER_BYTES: "4194304",
      GATEWAY_MEMORY_RELEASE_WHEN_IDLE: "false",
    });
    assert.equal(c.memory.reclaimAfterBytes, 4194304);
    assert.equal(c.memory.releaseWhenIdle, false);
    assert.equal(c.listen.port, 9090);
    assert.equal(c.limits.maxMessageBytes, 1024);
    assert.deepEqual(c.cors.allowedOrigins, ["http://localhost:5173"]);
    assert.equal(c.upstreams[0]?.address.port, "9444");
  });

  it("maps environment names to key paths", () => {
    assert.deepEqual(envNameToPath("UPSTREAMS_1_TLS_SERVER_NAME"), [
      "upstreams",
      1,
      "tls",
      "serverName",
    ]);
    assert.deepEqual(envNameToPath("AUTH_CLOCK_TOLERANCE_SECONDS"), [
      "auth",
      "clockToleranceSeconds",
    ]);
    assert.equal(envNameToPath("LISTEN_PROT"), undefined);
  });

  it("names the key of every mistake", () => {
    rejectsKey(`${minimal}\nlimits: { maxMesageBytes: 10 }`, "limits.maxMesageBytes");
    rejectsKey(`${minimal}\nlimits: { maxMessageBytes: -1 }`, "limits.maxMessageBytes");
    rejectsKey(`${minimal}\nlimits: { discardBodyTimeoutMs: 1.5 }`, "limits.discardBodyTimeoutMs");
    rejectsKey(`${minimal}\nmemory: { reclaimAfterBytes: -1 }`, "memory.reclaimAfterBytes");
    rejectsKey(`${minimal}\nmemory: { reclaimAfter: 1 }`, "memory.reclaimAfter");
    rejectsKey(`${minimal}\nmemory: { releaseWhenIdle: sometimes }`, "memory.releaseWhenIdle");
    rejectsKey(
      `${minimal}\ncors: { allowedOrigins: ["*"], allowCredentials: true }`,
      "cors.allowedOrigins",
    );
    rejectsKey(
      `${minimal}\ncors: { allowedOrigins: ["http://a.test/"] }`,
      "cors.allowedOrigins[0]",
    );
    rejectsKey(
      minimal.replace("https://127.0.0.1:9443", "http://127.0.0.1:9443"),
      "upstreams[0].address",
    );
    rejectsKey(minimal.replace("ca.crt", "missing.crt"), "upstreams[0].tls.caFile");
    rejectsKey(`${minimal}\n`, "upstreams[0].pingTimeoutMs", {
      GATEWAY_UPSTREAMS_0_PING_TIMEOUT_MS: "0",
    });
    rejectsKey(
      minimal.replace('["demo.notes.v1.NotesService"]', '["demo notes"]'),
      "upstreams[0].services[0]",
    );
    rejectsKey("listen: { port: 1 }", "upstreams");
    rejectsKey(minimal, "GATEWAY_LISTEN_PROT", { GATEWAY_LISTEN_PROT: "1" });
  });

  it("checks what start-up needs: TLS material, the auth section, the descriptor set", () => {
    rejectsKey(minimal.replace("client.key", "server.key"), "upstreams[0].tls");
    rejectsKey(minimal.replace("client.crt", "broken.crt"), "upstreams[0].tls");
    rejectsKey(`${minimal}\nauth: { issuers: [] }`, "auth.issuers");
    rejectsKey(
      `${minimal}\nauth: { issuers: [{ issuer: "http://idp.example.com", audiences: [a] }] }`,
      "auth.issuers[0].issuer",
    );
    rejectsKey(`${minimal}\ndescriptorSet: missing.binpb`, "descriptorSet");
    rejectsKey(`${minimal}\ndescriptorSet: 42`, "descriptorSet");
    const withSchema = `${minimal}\ndescriptorSet: image.binpb\nauth:
  issuers: [{ issuer: "https://idp.example.com", audiences: ["api://notes"] }]
  rules: [{ methods: ["/demo.notes.v1.NotesService/GetNote"], policy: public }]
`;
    const c = loadConfig(write(withSchema), {});
    assert.equal(c.descriptorSet, join(dir, "image.binpb"));
    assert.equal(c.descriptors?.hasMethod("/demo.notes.v1.NotesService/GetNote"), true);
    assert.equal(c.auth?.rules[0]?.policy, "public");
    rejectsKey(withSchema.replace('GetNote"]', 'GetNotes"]'), "auth.rules[0].methods[0]");
  });

  it("reads auth.dpop: off without the section, allowed with it, every mistake named", () => {
    const auth = `\nauth:\n  issuers: [{ issuer: "https://idp.example.com", audiences: ["api://notes"] }]`;
    assert.equal(loadConfig(write(`${minimal}${auth}`), {}).auth?.dpop.mode, "off");
    const dpop = loadConfig(write(`${minimal}${auth}\n  dpop: { requireNonce: true }`), {}).auth
      ?.dpop;
    assert.equal(dpop?.mode, "allowed");
    assert.equal(dpop?.replayStore, "memory");
    assert.equal(dpop?.maxProofAgeSeconds, 60);
    const env = {
      GATEWAY_AUTH_DPOP_MODE: "required",
      GATEWAY_AUTH_DPOP_REPLAY_STORE: "redis://127.0.0.1:6379",
    };
    const fromEnv = loadConfig(write(`${minimal}${auth}`), env).auth?.dpop;
    assert.equal(fromEnv?.mode, "required");
    assert.equal(fromEnv?.replayStore, "redis://127.0.0.1:6379");
    rejectsKey(`${minimal}${auth}\n  dpop: { mode: sometimes }`, "auth.dpop.mode");
    rejectsKey(
      `${minimal}${auth}\n  dpop: { replayStore: "memcached://x" }`,
      "auth.dpop.replayStore",
    );
    rejectsKey(`${minimal}${auth}\n  dpop: { algorithms: [HS256] }`, "auth.dpop.algorithms[0]");
    rejectsKey(
      `${minimal}${auth}\n  dpop: { publicUrl: "http://gw.example.com" }`,
      "auth.dpop.publicUrl",
    );
    rejectsKey(`${minimal}${auth}\n  dpop: { nonceSecret: short }`, "auth.dpop.nonceSecret");
    rejectsKey(`${minimal}${auth}\n  dpop: { replayStor: memory }`, "auth.dpop.replayStor");
    // Workers share no memory: replays across them, and each other's nonces.
    rejectsKey(`${minimal}workers: 2${auth}\n  dpop: { mode: allowed }`, "auth.dpop.replayStore");
    rejectsKey(
      `${minimal}workers: 2${auth}\n  dpop: { replayStore: "redis://127.0.0.1:6379", requireNonce: true }`,
      "auth.dpop.nonceSecret",
    );
  });

  it("suggests the key that was meant", () => {
    assert.throws(
      () => loadConfig(write(`${minimal}\ncors: { allowedOrigin: [] }`), {}),
      /did you mean "allowedOrigins"/,
    );
  });
});
