// The CLI as the container image and the published package run it: the
// gateway folder the image holds (bin, package.json, the bundle; written by
// `scripts/bundle.ts --image`, as the Dockerfile writes it), in a folder with
// no node_modules anywhere above it, so every module it loads must come from
// the bundle. Each chunk loaded only when configured is used: tokens checked
// with jose, DPoP proofs remembered in a real Redis, the OpenTelemetry
// tracer, the doctor, and koffi (native, so copied next to the bundle) for
// glibc's malloc_trim.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { type BundleResult, writeImageLayout } from "../scripts/bundle.ts";
import { authSection, type DoctorFixture, NOTES, startDoctorFixture } from "./doctor/fixture.ts";
import { dpopHeaders, newDpopKey, proofFor } from "./support/dpop.ts";
import { parseWebBody, postGrpcWeb } from "./support/http.ts";
import { startRedis, type TestRedis } from "./support/redis.ts";

const ECHO = `${NOTES}/EchoMetadata`;
const EMPTY = new Uint8Array([0, 0, 0, 0, 0]);

/** Every folder from `dir` up to the root: none may hold node_modules. */
function foldersUp(dir: string): string[] {
  const parent = dirname(dir);
  return parent === dir ? [dir] : [dir, ...foldersUp(parent)];
}

function runBin(
  bin: string,
  args: string[],
): {
  child: ChildProcess;
  output: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdout = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => resolve(code)),
  );
  return { child, output: () => output, stdout: () => stdout, exited };
}

describe("the bundled CLI (dist/cli), without node_modules", () => {
  let fx: DoctorFixture;
  let redis: TestRedis;
  let bundle: BundleResult;
  let bin: string;
  let config: string;
  let gateway: ReturnType<typeof runBin> | undefined;
  let url: string;

  before(async () => {
    [fx, redis] = await Promise.all([startDoctorFixture(), startRedis()]);
    const root = mkdtempSync(join(tmpdir(), "gw-bundle-"));
    for (const dir of foldersUp(root)) {
      assert.ok(!existsSync(join(dir, "node_modules")), `${dir} holds node_modules`);
    }
    const app = join(root, "gateway");
    bundle = await writeImageLayout(app);
    bin = join(app, "bin/grpc-edge-gateway.js");
    config = join(fx.dir, "bundle.yaml");
    writeFileSync(
      config,
      stringify(
        fx.config({
          auth: authSection(fx.idp, { dpop: { mode: "allowed", replayStore: redis.url } }),
          tracing: { openTelemetry: true },
        }),
      ),
    );
    gateway = runBin(bin, ["--config", config]);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(gateway.output());
      if (match?.[1] !== undefined) {
        url = match[1];
        break;
      }
      if (gateway.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the bundled gateway did not start:\n${gateway.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (gateway?.child.exitCode === null) {
      gateway.child.kill("SIGTERM");
      await gateway.exited;
    }
    await Promise.all([fx?.close(), redis?.stop()]);
  });

  it("holds the bin's two modules and the licence of every package it took in", () => {
    assert.ok(bundle.files.includes("main.js"), bundle.files.join(" "));
    assert.ok(bundle.files.includes("ops/node-flags.js"), bundle.files.join(" "));
    const licences = readFileSync(
      join(dirname(bin), "../dist/cli/THIRD-PARTY-LICENSES.txt"),
      "utf8",
    );
    for (const name of [
      "fastify",
      "jose",
      "pino",
      "prom-client",
      "@redis/client",
      "yaml",
      "koffi",
    ]) {
      const entry = bundle.packages.find((p) => p.startsWith(`${name}@`));
      assert.ok(entry !== undefined, `${name} in ${bundle.packages.join(" ")}`);
      assert.ok(licences.includes(`\n${entry}, licence: `), `${entry} in the licences`);
    }
    assert.match(licences, /Permission is hereby granted/);
  });

  it("serves a DPoP-bound call, refuses its replayed proof (Redis) and a call without a token", async () => {
    const key = await newDpopKey();
    const token = await fx.idp.mintAccessToken({ scope: "notes:read", dpopKey: key });
    const headers = dpopHeaders(token, await proofFor(key, { url: `${url}${ECHO}`, token }));
    const ok = await postGrpcWeb(url, ECHO, EMPTY, headers);
    assert.equal(ok.status, 200);
    const { messages, trailers } = parseWebBody(ok.body);
    assert.equal(trailers["grpc-status"], "0", JSON.stringify(ok.headers));
    // EchoMetadata answers with what the upstream received: the verified caller.
    assert.match(messages[0]?.toString("latin1") ?? "", /x-auth-client-id/);
    const replayed = await postGrpcWeb(url, ECHO, EMPTY, headers);
    assert.equal(replayed.headers["grpc-status"], "16");
    assert.equal(replayed.headers["grpc-edge-reason"], "dpop_proof_replayed");
    const anonymous = await postGrpcWeb(url, ECHO, EMPTY);
    assert.equal(anonymous.headers["grpc-status"], "16");
    assert.equal(anonymous.headers["grpc-edge-reason"], "missing_token");
    // koffi (native, copied next to the bundle) loaded: idle memory goes back to glibc's trim.
    assert.doesNotMatch(gateway?.output() ?? "", /the C allocator's is not/);
  });

  it("serves /metrics from the bundled prom-client", async () => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
    assert.match(text, /^grpc_edge_/m);
  });

  it("runs the doctor from the bundle", async () => {
    const tokenFile = join(fx.dir, "bundle-token.txt");
    writeFileSync(
      tokenFile,
      await fx.idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 600 }),
    );
    const doctor = runBin(bin, ["doctor", "--config", config, "--token-file", tokenFile, "--json"]);
    const code = await doctor.exited;
    assert.equal(code, 0, doctor.output());
    assert.equal(JSON.parse(doctor.stdout()).ok, true);
  });
});
