// The CLI as platform teams run it: a config file, GATEWAY_* overrides,
// exit code 78 naming the bad key, SIGTERM, and `workers` > 1 with metrics
// summed over the cluster.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { GATEWAY_NODE_FLAGS } from "../src/ops/node-flags.ts";
import { postGrpcWeb } from "./support/http.ts";
import { grpcFrame, type RawUpstream, replyOk, startRawUpstream } from "./support/raw-upstream.ts";
import { gatewayConfig, testPki } from "./support/stack.ts";

const BIN = new URL("../bin/grpc-edge-gateway.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "gw-cli-"));
const children: ChildProcess[] = [];

/**
 * Runs the CLI as npx does: the bin itself, whose shebang starts this test's
 * Node (first on PATH); `viaNode` runs `node <bin>` as the container does.
 */
function run(
  args: string[],
  env: Record<string, string> = {},
  viaNode = false,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const [command, argv] = viaNode ? [process.execPath, [BIN, ...args]] : [BIN, args];
  const child = spawn(command, argv, {
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(
  output: () => string,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = output().match(pattern);
    if (match !== null) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process's command line, as the kernel has it. */
const commandLine = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/cmdline`, "utf8")
    .split("\0")
    .filter((a) => a !== "");

/** The pids whose parent is `pid` (cluster workers of a primary). */
function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of stat is the parent pid; field 2 (comm) is in parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while being read.
    }
  }
  return pids;
}

const NO_FLAGS_WARNING = /node runs without some of the gateway's flags/;
const ECHO = "/demo.notes.v1.NotesService/Echo";

describe("grpc-edge-gateway CLI", () => {
  let upstream: RawUpstream;
  let configFile: string;

  before(async () => {
    const pki = await testPki();
    upstream = await startRawUpstream({
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      handle: ({ stream }) => replyOk(stream, grpcFrame(new Uint8Array([1]))),
    });
    configFile = join(dir, "gateway.yaml");
    writeFileSync(
      configFile,
      stringify({ ...gatewayConfig(pki, upstream.url), listen: { host: "127.0.0.1", port: 0 } }),
    );
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await upstream.close();
  });

  it("exits 78 naming the key of a bad config", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "limits: { maxMesageBytes: 1 }\n");
    const { exited, output } = run(["--config", bad]);
    assert.equal(await exited, 78);
    assert.match(output(), /limits\.maxMesageBytes: unknown key; did you mean "maxMessageBytes"\?/);
  });

  it("--check validates what start-up validates: the auth section and the descriptor set", async () => {
    for (const [extra, key] of [
      [{ auth: { issuers: [] } }, /auth\.issuers/],
      [{ descriptorSet: "missing.binpb" }, /descriptorSet/],
    ] as const) {
      const file = join(dir, `check-${Object.keys(extra)[0]}.yaml`);
      const config = readFileSync(configFile, "utf8");
      writeFileSync(file, `${config}${stringify(extra)}`);
      const { exited, output } = run(["--config", file, "--check"]);
      assert.equal(await exited, 78);
      assert.match(output(), key);
    }
    const ok = run(["--config", configFile, "--check"]);
    assert.equal(await ok.exited, 0);
    assert.match(ok.output(), /config ok/);
  });

  it("exits 78 for a GATEWAY_* variable that matches no key", async () => {
    const { exited, output } = run(["--config", configFile], { GATEWAY_LISTEN_PROT: "1" });
    assert.equal(await exited, 78);
    assert.match(output(), /GATEWAY_LISTEN_PROT/);
  });

  it("serves, warns that auth is off, and drains on SIGTERM", async () => {
    const { child, exited, output } = run(["--config", configFile]);
    const [, url] = await waitForOutput(output, /"url":"(http:\/\/[^"]+)"/);
    assert.match(output(), /no `auth` section: every method is allowed/);
    const res = await postGrpcWeb(
      url as string,
      "/demo.notes.v1.NotesService/Echo",
      grpcFrame(new Uint8Array(0)),
    );
    assert.equal(res.status, 200);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  });

  it("`node <bin>` (as the container runs it) restarts node with the gateway's flags, in the same process", async () => {
    const { child, exited, output } = run(["--config", configFile], {}, true);
    const [, url] = await waitForOutput(output, /"url":"(http:\/\/[^"]+)"/);
    // process.execve: the same pid, no wrapper process left behind.
    const argv = commandLine(child.pid as number);
    for (const flag of GATEWAY_NODE_FLAGS) assert.ok(argv.includes(flag), argv.join(" "));
    assert.deepEqual(childrenOf(child.pid as number), []);
    assert.doesNotMatch(output(), NO_FLAGS_WARNING);
    const res = await postGrpcWeb(url as string, ECHO, grpcFrame(new Uint8Array(0)));
    assert.equal(res.status, 200);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    // The image starts node on the bin, which applies the one list itself.
    const dockerfile = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? "[]");
    assert.deepEqual(entrypoint, ["node", "gateway/bin/grpc-edge-gateway.js"]);
  });

  it("starts without a flag this Node rejects, and says so once", async () => {
    const { child, exited, output } = run(["--config", configFile], {
      GATEWAY_NODE_FLAGS: "--max-semi-space-size=8 --no-such-v8-flag",
    });
    const [, url] = await waitForOutput(output, /"url":"(http:\/\/[^"]+)"/);
    const argv = commandLine(child.pid as number);
    assert.ok(argv.includes("--max-semi-space-size=8"), argv.join(" "));
    assert.ok(!argv.includes("--no-such-v8-flag"), argv.join(" "));
    assert.equal(output().match(new RegExp(NO_FLAGS_WARNING, "g"))?.length, 1, output());
    assert.match(output(), /"missing":\["--no-such-v8-flag"\]/);
    const res = await postGrpcWeb(url as string, ECHO, grpcFrame(new Uint8Array(0)));
    assert.equal(res.status, 200);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  });

  it("runs `workers: 2` and sums /metrics over the cluster", async () => {
    // Port 0: the cluster gives every worker the same free port.
    const { child, exited, output } = run(["--config", configFile], { GATEWAY_WORKERS: "2" });
    await waitForOutput(output, /gateway listening[\s\S]*gateway listening/);
    const urls = [...output().matchAll(/"url":"(http:\/\/[^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(urls).size, 1, urls.join(" "));
    // The bin restarted node with the gateway's flags, and both workers inherited them.
    const workers = childrenOf(child.pid as number);
    assert.equal(workers.length, 2);
    for (const pid of [child.pid as number, ...workers]) {
      const argv = commandLine(pid);
      for (const flag of GATEWAY_NODE_FLAGS) assert.ok(argv.includes(flag), argv.join(" "));
    }
    assert.doesNotMatch(output(), NO_FLAGS_WARNING);
    const url = urls[0] as string;
    const calls = 20;
    for (let i = 0; i < calls; i++) {
      const res = await postGrpcWeb(
        url,
        "/demo.notes.v1.NotesService/Echo",
        grpcFrame(new Uint8Array(0)),
        { connection: "close" },
      );
      assert.equal(res.status, 200);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const match = metrics.match(
      /grpc_edge_calls_total\{[^}]*method="Echo"[^}]*grpc_code="ok"[^}]*\} (\d+)/,
    );
    assert.equal(Number(match?.[1]), calls, metrics.slice(0, 2000));
    // The process metrics, over the cluster too (RSS summed over the workers).
    assert.ok(Number(metrics.match(/^process_resident_memory_bytes (\d+)$/m)?.[1]) > 2 ** 20);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  });
});
