/**
 * `npm run bench:side-by-side -- --baseline <dir>`: this checkout's gateway
 * and another checkout's under the same load at the same time, both on
 * core 1 (the upstream and the two Node load generators on core 0), their
 * CPU per call read over the same windows. `bench:profile --baseline`
 * alternates the two, so each idles while the other runs; this keeps both
 * busy without a pause, which is what a setting that acts on idle gaps
 * (memory.releaseWhenIdle) must also be measured under.
 * Options: --stream (100 × 64 KiB server stream per call), --windows N
 * (default 4), --seconds N per window (default 20), --concurrency N per
 * gateway (default 25), --warm N seconds of load before the first window
 * (default 40: past the gateway's first 30 s idle-memory tick).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runNodeLoad, startEchoUpstream, startGateway } from "./children.ts";
import { DOWNLOAD, download, echoOverHttp1, writeGatewayConfig } from "./fixtures.ts";
import { cpuMs, pinCores } from "./proc-stats.ts";
import { median } from "./tally.ts";

const { values } = parseArgs({
  options: {
    baseline: { type: "string" },
    stream: { type: "boolean", default: false },
    windows: { type: "string", default: "4" },
    seconds: { type: "string", default: "20" },
    concurrency: { type: "string", default: "25" },
    warm: { type: "string", default: "40" },
  },
});
if (values.baseline === undefined) throw new Error("--baseline <dir>: the other checkout");

const out = new URL("../out/", import.meta.url).pathname;
const { pki, upstream, upstreamUrl } = await startEchoUpstream(out, "node");
const config = writeGatewayConfig(out, upstreamUrl, pki, {});
const mine = await startGateway(config);
const theirs = await startGateway(config, {
  module: resolve(values.baseline, "bench/src/gateway-process.ts"),
});
const pinned = pinCores(0, [upstream.pid], 1, [mine.pid, theirs.pid]);

const load = (port: number, seconds: number) =>
  echoOverHttp1(
    port,
    Number(values.concurrency),
    seconds,
    values.stream ? { path: DOWNLOAD, body: download(100, 65536).toString("base64") } : {},
  );
const both = (seconds: number) =>
  Promise.all([runNodeLoad(load(mine.port, seconds)), runNodeLoad(load(theirs.port, seconds))]);

console.log(
  `${values.stream ? "100 × 64 KiB server stream" : "unary 100-byte echo"} per call, ${values.concurrency} connections per gateway, both at once${pinned ? ", gateways on core 1" : ""}`,
);
await both(Number(values.warm));
const ratios: number[] = [];
for (let i = 0; i < Number(values.windows); i++) {
  const before = [cpuMs(mine.pid), cpuMs(theirs.pid)] as const;
  const [a, b] = await both(Number(values.seconds));
  const perCall = (pid: number, start: number, calls: number) =>
    ((cpuMs(pid) - start) * 1000) / Math.max(calls, 1);
  const m = perCall(mine.pid, before[0], a.calls);
  const t = perCall(theirs.pid, before[1], b.calls);
  ratios.push(m / t);
  console.log(
    `window ${i + 1}: this checkout ${a.calls} calls, ${m.toFixed(1)} µs/call (errors ${a.errors}); baseline ${b.calls} calls, ${t.toFixed(1)} µs/call (errors ${b.errors}); ${((m / t) * 100).toFixed(1)}%`,
  );
}
console.log(
  `this checkout relative to baseline ${values.baseline}, gateway CPU per call: median ${(median(ratios) * 100).toFixed(1)}% (windows ${(Math.min(...ratios) * 100).toFixed(1)}-${(Math.max(...ratios) * 100).toFixed(1)}%)`,
);
await Promise.all([mine.stop(), theirs.stop(), upstream.stop()]);
process.exit(0);
