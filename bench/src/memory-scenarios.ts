/**
 * Memory under the two loads that break proxies that buffer: a 200 MB
 * server stream read slowly, and thousands of idle long-lived streams.
 * The gateway's RSS is sampled from /proc while they run.
 */
import { request } from "node:http";
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import type { Child } from "./children.ts";
import { rssBytes } from "./proc-stats.ts";

const MiB = 2 ** 20;

/**
 * Streams `body`'s Download through the gateway over HTTP/1.1, reading at
 * most 1 MiB every 20 ms (~6 MB/s in practice: 200 MiB take ~33 s), twice
 * in a row. The first stream on a fresh gateway also shows
 * warm-up: Node's per-read buffers wait for the next scavenge and the C
 * allocator keeps what they used, so RSS rises once and that memory is then
 * reused; the second stream shows what a slow reader itself costs.
 */
export async function measureSlowReader(options: {
  gateway: Child;
  body: Buffer;
}): Promise<string> {
  const rows: string[] = [];
  for (const which of ["first", "second"]) {
    const reclaimsBefore = await bufferReclaims(options.gateway);
    const { received, seconds, before, peak } = await slowStream(options.gateway, options.body);
    const reclaims = (await bufferReclaims(options.gateway)) - reclaimsBefore;
    rows.push(
      `| ${which} | ${(received / MiB).toFixed(0)} MiB | ${seconds.toFixed(1)} | ${(before / MiB).toFixed(1)} MiB | ${(peak / MiB).toFixed(1)} MiB | ${((peak - before) / MiB).toFixed(1)} MiB | ${reclaims} |`,
    );
  }
  return [
    "### Slow reader: a 200 MiB server stream read slowly (at most 1 MiB per 20 ms) over HTTP/1.1, twice",
    "",
    "| stream | received | seconds | gateway RSS before | peak | growth | buffer reclaims |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

/** grpc_edge_buffer_reclaims_total, from the gateway's /metrics. */
async function bufferReclaims(gateway: Child): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
  return Number(/^grpc_edge_buffer_reclaims_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

async function slowStream(gateway: Child, body: Buffer) {
  const before = rssBytes(gateway.pid);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(gateway.pid));
  }, 50);
  const started = performance.now();
  const received = await new Promise<number>((resolve, reject) => {
    const req = request(`http://127.0.0.1:${gateway.port}/demo.notes.v1.NotesService/Download`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
    });
    req.on("response", (res) => {
      let total = 0;
      res.pause();
      const tick = setInterval(() => {
        let taken = 0;
        for (;;) {
          const chunk = res.read() as Buffer | null;
          if (chunk === null) break;
          taken += chunk.length;
          if (taken >= MiB) break;
        }
        total += taken;
      }, 20);
      res.on("end", () => {
        clearInterval(tick);
        resolve(total);
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
  clearInterval(sampler);
  return { received, seconds: (performance.now() - started) / 1000, before, peak };
}

/** Opens `streams` idle server streams over HTTP/2, measures RSS and a unary call's latency meanwhile. */
export async function measureIdleStreams(options: {
  gateway: Child;
  ca: string;
  streams: number;
  unaryBody: Buffer;
}): Promise<string> {
  const { gateway, streams } = options;
  const url = `https://127.0.0.1:${gateway.port}`;
  const before = await collectGarbage(gateway);
  const sessions: ClientHttp2Session[] = [];
  const open: ClientHttp2Stream[] = [];
  const perSession = 100;
  let responded = 0;
  for (let i = 0; i < streams; i++) {
    if (i % perSession === 0)
      sessions.push(connect(url, { ca: options.ca, servername: "localhost" }));
    const session = sessions[sessions.length - 1] as ClientHttp2Session;
    const stream = session.request({
      ":method": "POST",
      ":path": "/demo.notes.v1.NotesService/WatchNotes",
      "content-type": "application/grpc-web+proto",
    });
    stream.on("response", () => responded++);
    stream.on("error", () => {});
    stream.end(Buffer.alloc(5));
    open.push(stream);
  }
  const deadline = Date.now() + 60_000;
  while (responded < streams && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  const during = await collectGarbage(gateway);
  // A unary call while they are all open.
  const probe = connect(url, { ca: options.ca, servername: "localhost" });
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const s = probe.request({
        ":method": "POST",
        ":path": "/demo.notes.v1.NotesService/Echo",
        "content-type": "application/grpc-web+proto",
      });
      s.on("data", () => {});
      s.on("end", () => resolve());
      s.on("error", () => resolve());
      s.end(options.unaryBody);
    });
    latencies.push(performance.now() - t0);
  }
  probe.close();
  for (const s of open) s.close();
  for (const s of sessions) s.close();
  latencies.sort((a, b) => a - b);
  return [
    `### ${streams} idle server streams over HTTP/2 (TLS), ${sessions.length} browser connections`,
    "",
    "| streams answered | gateway RSS before → with the streams open | per stream (RSS) | V8 heap per stream | unary call meanwhile, p50 / max |",
    "| --- | --- | --- | --- | --- |",
    `| ${responded} | ${(before.rss / MiB).toFixed(1)} → ${(during.rss / MiB).toFixed(1)} MiB | ${((during.rss - before.rss) / streams / 1024).toFixed(1)} KiB | ${((during.heapUsed - before.heapUsed) / streams / 1024).toFixed(1)} KiB | ${latencies[10]?.toFixed(2)} / ${latencies[19]?.toFixed(2)} ms |`,
    "",
  ].join("\n");
}

/** A full GC in the gateway process (after --expose-gc), then its heap and RSS. */
function collectGarbage(gateway: Child): Promise<{ heapUsed: number; rss: number }> {
  return new Promise((resolve) => {
    const onMessage = (m: { type?: string; heapUsed: number; rss: number }) => {
      if (m?.type !== "gc-done") return;
      gateway.process.off("message", onMessage);
      resolve({ heapUsed: m.heapUsed, rss: m.rss });
    };
    gateway.process.on("message", onMessage);
    gateway.process.send({ type: "gc" });
  });
}
