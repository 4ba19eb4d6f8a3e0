/**
 * The gateway's memory as an operator at the edge sees it: the CLI started
 * as the container starts it (`node gateway/bin/grpc-edge-gateway.js`, the
 * CLI bundle, no npm exec wrapper), its RSS read from /proc. Fresh;
 * the peak under the bench's unary and streaming loads; then while it idles
 * for a minute. The V8 heap and the memory outside it (Buffers, sockets)
 * come from the gateway's own /metrics at each step.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import type { DevPki } from "@grpc-edge/example-upstream";
import { freePort, runNodeLoad, runningChild, waitForPort } from "./children.ts";
import { DOWNLOAD, download, echoOverHttp1, writeGatewayConfig } from "./fixtures.ts";
import type { LoadSpec } from "./load-generator.ts";
import { memoryCgroup, rssBytes } from "./proc-stats.ts";
import { ensureWrk, runWrk } from "./wrk.ts";

const MiB = 2 ** 20;
const repo = new URL("../../", import.meta.url).pathname;

/**
 * The gateway as the image holds it: bin, package.json and the CLI bundle
 * (built by gateway/scripts/bundle.ts, as the Dockerfile builds it) under
 * `dir`/image/gateway. The bundle needs no node_modules.
 */
export function buildImageLayout(dir: string): string {
  const gateway = join(dir, "image", "gateway");
  execFileSync(process.execPath, [join(repo, "gateway/scripts/bundle.ts"), "--image", gateway], {
    stdio: "inherit",
  });
  return join(gateway, "bin/grpc-edge-gateway.js");
}

interface Sample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

/** The gateway's memory now: RSS from /proc, the rest from its /metrics. */
async function sample(child: ChildProcess, port: number): Promise<Sample> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return {
    rss: rssBytes(child.pid as number),
    heapUsed: read("nodejs_heap_size_used_bytes"),
    heapTotal: read("nodejs_heap_size_total_bytes"),
    external: read("nodejs_external_memory_bytes"),
  };
}

/** Runs `load` while sampling RSS every 50 ms; the highest reading. */
async function peakDuring(child: ChildProcess, load: () => Promise<unknown>): Promise<number> {
  let peak = rssBytes(child.pid as number);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(child.pid as number));
  }, 50);
  try {
    await load();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssBytes(child.pid as number));
}

/** The bin of the image layout, built once per run. */
let built: string | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureFootprint(options: {
  readonly dir: string;
  readonly upstreamUrl: string;
  readonly pki: DevPki;
  readonly seconds: number;
  readonly concurrency: number;
  /** Node options before the bin (e.g. to compare flag sets); none by default. */
  readonly nodeArgs?: readonly string[];
  /** More gateway config (e.g. memory.reclaimAfterBytes). */
  readonly config?: Record<string, unknown>;
  /** More environment for the gateway (e.g. GATEWAY_NODE_FLAGS). */
  readonly env?: Record<string, string>;
  /** What the title says is different from the defaults. */
  readonly label?: string;
  /**
   * Runs the gateway in a memory cgroup with this limit, as a container
   * with `--memory` runs it (Node then sizes V8's heap from the limit).
   */
  readonly memoryLimitMiB?: number;
}): Promise<string> {
  built ??= buildImageLayout(options.dir);
  const bin = built;
  const port = await freePort();
  const config = writeGatewayConfig(options.dir, options.upstreamUrl, options.pki, {
    listen: { host: "127.0.0.1", port },
    ...options.config,
  });
  const command = [process.execPath, ...(options.nodeArgs ?? []), bin, "--config", config];
  const cgroup =
    options.memoryLimitMiB === undefined
      ? undefined
      : memoryCgroup(`grpc-edge-bench-${process.pid}`, options.memoryLimitMiB * MiB);
  if (cgroup !== undefined && "why" in cgroup)
    return `(footprint under a memory limit: ${cgroup.why})\n`;
  // Joins the cgroup, then execs node: same pid, limited from its start.
  const [file, ...args] =
    cgroup === undefined
      ? command
      : ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', cgroup.procs, ...command];
  const child = spawn(file as string, args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...options.env },
  });
  const rows: string[] = [];
  const row = (phase: string, s: Sample, rss = s.rss) =>
    rows.push(
      `| ${phase} | ${(rss / MiB).toFixed(1)} | ${(s.heapUsed / MiB).toFixed(1)} / ${(s.heapTotal / MiB).toFixed(1)} | ${(s.external / MiB).toFixed(1)} |`,
    );
  try {
    await waitForPort(port, child);
    await sleep(10_000);
    row("fresh, idle 10 s after it listens", await sample(child, port));
    const spec = (extra: Partial<LoadSpec>): LoadSpec =>
      echoOverHttp1(port, options.concurrency, options.seconds, extra);
    const unary = spec({});
    const unaryPeak = await peakDuring(child, () =>
      ensureWrk() ? runWrk(unary) : runNodeLoad(unary),
    );
    row(
      `peak under unary load (${options.concurrency} connections, ${options.seconds} s)`,
      await sample(child, port),
      unaryPeak,
    );
    const streams: Array<[string, LoadSpec]> = [
      [
        "1 KiB messages, 1000 per call, 8 streams",
        spec({ path: DOWNLOAD, body: download(1000, 1024).toString("base64"), concurrency: 8 }),
      ],
      [
        "64 KiB messages, 100 per call, 4 streams",
        spec({
          path: DOWNLOAD,
          body: download(100, 65536).toString("base64"),
          concurrency: 4,
        }),
      ],
    ];
    for (const [what, load] of streams) {
      const peak = await peakDuring(child, () => runNodeLoad(load));
      row(`peak under streaming: ${what}, ${options.seconds} s`, await sample(child, port), peak);
    }
    const idleSince = performance.now();
    for (const seconds of [10, 30, 60]) {
      await sleep(seconds * 1000 - (performance.now() - idleSince));
      row(`idle ${seconds} s after the loads`, await sample(child, port));
    }
    if (cgroup !== undefined) rows.push("", `The cgroup: ${cgroup.charged()}.`);
  } finally {
    await runningChild(child, port).stop();
    cgroup?.remove();
  }
  const flags = [
    ...(options.memoryLimitMiB === undefined
      ? []
      : [
          `in a ${options.memoryLimitMiB} MiB memory cgroup (as \`docker run --memory=${options.memoryLimitMiB}m\`)`,
        ]),
    ...(options.nodeArgs?.length ? [`node ${options.nodeArgs.join(" ")}`] : []),
    ...(options.label === undefined ? [] : [options.label]),
  ];
  return [
    `### Footprint: the CLI as the container runs it (\`node gateway/bin/grpc-edge-gateway.js\`, the CLI bundle)${flags.length > 0 ? `, ${flags.join(", ")}` : ", as shipped"}`,
    "",
    "| phase | RSS MiB | V8 heap used / total MiB | external (Buffers, sockets) MiB |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
