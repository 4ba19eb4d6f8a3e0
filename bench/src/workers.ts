/**
 * The `workers` setting measured: the CLI (`grpc-edge-gateway --config`) with
 * workers 1 and then 2 (Node cluster), the same wrk load, CPU summed over the
 * primary and its workers. On this 2-core machine the load generator and the
 * upstream share the cores, so the ratio shows what a second worker buys
 * when the gateway is the bottleneck, not a clean per-core scaling line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { DevPki } from "@grpc-edge/example-upstream";
import { GATEWAY_NODE_FLAGS } from "../../gateway/src/ops/node-flags.ts";
import { freePort, waitForPort } from "./children.ts";
import { echoOverHttp1, writeGatewayConfig } from "./fixtures.ts";
import { treeCpuMs, treeRssBytes } from "./proc-stats.ts";
import { runWrk } from "./wrk.ts";

const cli = new URL("../../gateway/bin/grpc-edge-gateway.js", import.meta.url).pathname;

export interface WorkersRow {
  readonly workers: number;
  readonly callsPerSecond: number;
  readonly cpuPerCallUs: number;
  readonly cpuCores: number;
  readonly rssMiB: number;
  readonly errors: number;
}

export async function measureWorkers(options: {
  readonly dir: string;
  readonly upstreamUrl: string;
  readonly pki: DevPki;
  readonly seconds: number;
  readonly concurrency: number;
  readonly rounds: number;
}): Promise<string> {
  const rows: WorkersRow[] = [];
  const started: Array<{ workers: number; child: ChildProcess; port: number }> = [];
  for (const workers of [1, 2]) {
    const port = await freePort();
    const config = writeGatewayConfig(options.dir, options.upstreamUrl, options.pki, {
      listen: { host: "127.0.0.1", port },
      workers,
    });
    const child = spawn(
      process.execPath,
      ["--conditions=source", ...GATEWAY_NODE_FLAGS, cli, "--config", config],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    await waitForPort(port, child);
    started.push({ workers, child, port });
  }
  try {
    const totals = new Map<
      number,
      { calls: number; seconds: number; cpu: number; errors: number }
    >();
    const spec = (port: number, seconds: number) =>
      echoOverHttp1(port, options.concurrency, seconds);
    for (const s of started) await runWrk(spec(s.port, 2)); // warm up every worker
    for (let round = 0; round < options.rounds; round++) {
      for (const s of started) {
        const pid = s.child.pid as number;
        const cpu0 = treeCpuMs(pid);
        const result = await runWrk(spec(s.port, options.seconds));
        const cpu = treeCpuMs(pid) - cpu0;
        const t = totals.get(s.workers) ?? { calls: 0, seconds: 0, cpu: 0, errors: 0 };
        t.calls += result.calls;
        t.seconds += result.seconds;
        t.cpu += cpu;
        t.errors += result.errors;
        totals.set(s.workers, t);
      }
    }
    for (const s of started) {
      const t = totals.get(s.workers) ?? { calls: 0, seconds: 1, cpu: 0, errors: 0 };
      rows.push({
        workers: s.workers,
        callsPerSecond: t.calls / t.seconds,
        cpuPerCallUs: (t.cpu * 1000) / t.calls,
        cpuCores: t.cpu / 1000 / t.seconds,
        rssMiB: treeRssBytes(s.child.pid as number) / 2 ** 20,
        errors: t.errors,
      });
    }
  } finally {
    for (const s of started) s.child.kill("SIGTERM");
  }
  const base = rows[0]?.callsPerSecond ?? 1;
  const lines = [
    "### `workers`: the CLI with 1 and 2 workers (Node cluster), unary HTTP/1.1, wrk",
    "",
    "| workers | calls/s | vs 1 worker | gateway CPU µs/call (all processes) | gateway cores busy | RSS MiB (all processes) | errors |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.workers} | ${r.callsPerSecond.toFixed(0)} | ${(r.callsPerSecond / base).toFixed(2)} | ${r.cpuPerCallUs.toFixed(1)} | ${r.cpuCores.toFixed(2)} | ${r.rssMiB.toFixed(0)} | ${r.errors} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
