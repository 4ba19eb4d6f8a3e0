/**
 * `npm run bench`: the gateway against calling the upstream directly and
 * against a peer proxy, in one run, targets alternating round by round to
 * cancel drift. Prints markdown tables (req/s, p50/p99, CPU per call of the
 * proxy process and of the upstream, RSS, ratio to direct).
 * Options: --seconds N (per target per round, default 5), --rounds N
 * (default 3), --quick (2 s × 1 round), --concurrency N (default 50),
 * --upstream node|go (the echo upstream: Node's http2 by default, or grpc-go
 * built from Debian's packages, bench/go-upstream).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GATEWAY_NODE_FLAGS } from "../../gateway/src/ops/node-flags.ts";
import { startOidcProvider } from "../../gateway/test/support/oidc-provider.ts";
import {
  type Child,
  runNodeLoad,
  startChild,
  startEchoUpstream,
  startGateway,
} from "./children.ts";
import {
  authAgainst,
  DOWNLOAD,
  download,
  ECHO,
  echo100,
  tlsListen,
  writeGatewayConfig,
} from "./fixtures.ts";
import { measureFootprint } from "./footprint.ts";
import type { LoadResult, LoadSpec } from "./load-generator.ts";
import { measureIdleStreams, measureSlowReader } from "./memory-scenarios.ts";
import { ensureNghttpx, startNghttpx } from "./nghttpx.ts";
import { pinCores, unpinCores } from "./proc-stats.ts";
import { emptyTally, inRoundOrder, median, type Tally, tallyRun } from "./tally.ts";
import { measureWorkers } from "./workers.ts";
import { ensureWrk, runWrk } from "./wrk.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "50" },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    upstream: { type: "string", default: "node" },
  },
});
if (values.upstream !== "node" && values.upstream !== "go")
  throw new Error(`--upstream: node or go, not "${values.upstream}"`);
// --only unary,streaming,workers,memory,footprint: run just those sections.
const SECTIONS = ["unary", "streaming", "workers", "memory", "footprint"];
const only = values.only?.split(",") ?? SECTIONS;
for (const s of only)
  if (!SECTIONS.includes(s))
    throw new Error(`--only: unknown section "${s}" (${SECTIONS.join(", ")})`);
const seconds = values.quick ? 2 : Number(values.seconds);
const rounds = values.quick ? 1 : Number(values.rounds);
const concurrency = Number(values.concurrency);
const out = new URL("../out/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });

// --- processes ------------------------------------------------------------
const { pki, upstream, upstreamUrl } = await startEchoUpstream(out, values.upstream);
const idp = await startOidcProvider({ resource: "api://notes", accessTokenTtlSeconds: 3600 });
const token = await idp.mintAccessToken({ scope: "notes:read", ttlSeconds: 3600 });

const gatewayConfig = (extra: Record<string, unknown>) =>
  writeGatewayConfig(out, upstreamUrl, pki, extra);
const gateway = await startGateway(gatewayConfig({}));
const gatewayTls = await startGateway(gatewayConfig(tlsListen(pki)), {
  execArgv: ["--expose-gc"], // the idle-streams scenario collects garbage before reading memory
});
const gatewayAuth = await startGateway(gatewayConfig(authAgainst(idp.issuer)));
const bareRelay = await startChild("./bare-relay.ts", [
  upstreamUrl,
  pki.caFile,
  pki.clientCertFile,
  pki.clientKeyFile,
]);
const peer = await startChild("./peer.ts", [
  upstreamUrl,
  pki.caFile,
  pki.clientCertFile,
  pki.clientKeyFile,
]);

// The C reference for streaming (Debian's nghttp2-proxy), when it can be had.
const nghttpx = ensureNghttpx() ? await startNghttpx(upstreamUrl, pki) : undefined;
if (nghttpx === undefined) {
  console.error(
    "nghttpx is missing and could not be installed (apt-get install nghttp2-proxy, as root): no C reference in streaming",
  );
}

// --- targets ----------------------------------------------------------------
const web = (child: Child, body: Buffer, extra: Partial<LoadSpec> = {}): LoadSpec => ({
  protocol: "h1",
  url: `http://127.0.0.1:${child.port}`,
  path: ECHO,
  contentType: "application/grpc-web+proto",
  body: body.toString("base64"),
  textResponse: false,
  nativeGrpc: false,
  concurrency,
  seconds,
  ...extra,
});
const webH2 = (body: Buffer, extra: Partial<LoadSpec> = {}): LoadSpec => ({
  ...web(gatewayTls, body, extra),
  protocol: "h2",
  url: `https://127.0.0.1:${gatewayTls.port}`,
  tls: { ca: pki.ca },
});
const direct = (body: Buffer, path = ECHO): LoadSpec => ({
  protocol: "h2",
  url: upstreamUrl,
  path,
  contentType: "application/grpc",
  body: body.toString("base64"),
  textResponse: false,
  nativeGrpc: true,
  concurrency,
  seconds,
  tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
});

// wrk drives the plain HTTP/1.1 targets (C: it leaves the cores to what is
// measured); HTTP/2 targets need the Node generator (wrk has no HTTP/2, and
// h2load cannot present the client certificate the upstream requires).
const haveWrk = ensureWrk();
if (!haveWrk) console.error("wrk is not installed: every target uses the Node load generator");
const loadTool = (spec: LoadSpec) =>
  haveWrk && spec.protocol === "h1" && spec.tls === undefined && spec.generator !== "node"
    ? "wrk"
    : "node";

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return loadTool(spec) === "wrk" ? runWrk(spec) : runNodeLoad(spec);
}

async function scenario(
  title: string,
  targets: Array<{ name: string; proxy: Child | undefined; spec: LoadSpec }>,
  unit = "call",
): Promise<string> {
  const rows = new Map<string, Tally>();
  for (let round = 0; round < rounds; round++) {
    for (const t of inRoundOrder(targets, round)) {
      const row = rows.get(t.name) ?? emptyTally();
      rows.set(t.name, row);
      await tallyRun(row, () => runLoad(t.spec), { proxy: t.proxy?.pid, upstream: upstream.pid });
    }
  }
  /** The figures of one row; totalCpu sums proxy, upstream and generator per call. */
  const proxyCpuMs = (r: Tally) => r.proxyUserMs + r.proxySystemMs;
  const figures = (r: Tally) => ({
    rate: r.calls / r.seconds,
    mbps: r.bytes / r.seconds / 1e6,
    p50: median(r.p50),
    p99: median(r.p99),
    totalCpu: ((proxyCpuMs(r) + r.upstreamCpuMs + r.generatorCpuMs) * 1000) / r.calls,
  });
  const base = rows.get(targets[0]?.name ?? "");
  const baseFigures = base === undefined ? undefined : figures(base);
  // Each figure with its ratio to the first row (direct), as "value (×ratio)".
  const withRatio = (
    row: Tally,
    value: number,
    key: keyof ReturnType<typeof figures>,
    digits: number,
  ) => {
    const ref = baseFigures?.[key];
    const text = value.toFixed(digits);
    return row === base || ref === undefined || ref === 0
      ? text
      : `${text} (×${(value / ref).toFixed(2)})`;
  };
  const lines = [
    `### ${title}`,
    "",
    `Each figure after the first row: value (× its ratio to ${targets[0]?.name}).`,
    "",
    `| target | load | ${unit}s/s | MB/s | p50 ms | p99 ms | proxy CPU µs/${unit} | upstream CPU µs/${unit} | load generator CPU µs/${unit} | all processes CPU µs/${unit} | proxy RSS MiB | errors |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const [name, r] of rows) {
    const f = figures(r);
    const spec = targets.find((t) => t.name === name)?.spec;
    const perCall = (ms: number) => ((ms * 1000) / r.calls).toFixed(1);
    lines.push(
      `| ${name} | ${spec === undefined ? "" : loadTool(spec)} | ${withRatio(r, f.rate, "rate", 0)} | ${withRatio(r, f.mbps, "mbps", 1)} | ${withRatio(r, f.p50, "p50", 2)} | ${withRatio(r, f.p99, "p99", 2)} | ${proxyCpuMs(r) ? perCall(proxyCpuMs(r)) : "–"} | ${perCall(r.upstreamCpuMs)} | ${perCall(r.generatorCpuMs)} | ${withRatio(r, f.totalCpu, "totalCpu", 1)} | ${r.rss ? (r.rss / 2 ** 20).toFixed(0) : "–"} | ${r.errors}${r.firstError ? ` (${r.firstError})` : ""} |`,
    );
  }
  const text = `${lines.join("\n")}\n`;
  process.stdout.write(`${text}\n`);
  return text;
}

const report: string[] = [];
const textBody = Buffer.from(echo100.toString("base64"));
/** Server streaming: direct, then the gateway over HTTP/1.1 and HTTP/2. */
const streaming = (count: number, size: number, streams: number, note = "") => {
  const body = download(count, size);
  const stream = { path: DOWNLOAD, concurrency: streams, generator: "node" } as const;
  return scenario(
    `Server streaming, ${size / 1024} KiB messages (${count} per call, ${streams} streams)${note}`,
    [
      {
        name: "direct (gRPC, h2 + mTLS)",
        proxy: undefined,
        spec: { ...direct(body, DOWNLOAD), concurrency: streams },
      },
      { name: "gateway, HTTP/1.1 binary", proxy: gateway, spec: web(gateway, body, stream) },
      { name: "gateway, HTTP/2 (TLS, ALPN h2)", proxy: gatewayTls, spec: webH2(body, stream) },
      ...(nghttpx === undefined
        ? []
        : [
            {
              name: "reference: nghttpx (C, same bytes as native gRPC, no gRPC-Web), HTTP/1.1",
              proxy: nghttpx,
              spec: {
                ...web(nghttpx, body, stream),
                contentType: "application/grpc",
                nativeGrpc: true,
              },
            },
          ]),
    ],
  );
};
if (only.includes("unary")) {
  report.push(
    await scenario("Unary, 100-byte echo, 50 connections", [
      { name: "direct (gRPC, h2 + mTLS)", proxy: undefined, spec: direct(echo100) },
      {
        name: "gateway, HTTP/1.1 binary (Node generator, as direct)",
        proxy: gateway,
        spec: web(gateway, echo100, { generator: "node" }),
      },
      { name: "gateway, HTTP/1.1 binary", proxy: gateway, spec: web(gateway, echo100) },
      {
        name: "gateway, HTTP/1.1 text",
        proxy: gateway,
        spec: web(gateway, textBody, {
          contentType: "application/grpc-web-text",
          textResponse: true,
        }),
      },
      {
        name: "gateway, HTTP/2 (TLS, ALPN h2)",
        proxy: gatewayTls,
        spec: webH2(echo100),
      },
      {
        name: "gateway, HTTP/1.1, JWT auth on",
        proxy: gatewayAuth,
        spec: web(gatewayAuth, echo100, { headers: { authorization: `Bearer ${token}` } }),
      },
      {
        name: "reference: bare Node relay (no checks), HTTP/1.1",
        proxy: bareRelay,
        spec: web(bareRelay, echo100),
      },
      { name: "peer: @grpc-web/proxy, HTTP/1.1", proxy: peer, spec: web(peer, echo100) },
    ]),
  );
}
if (only.includes("streaming")) {
  report.push(await streaming(1000, 1024, 8));
  report.push(await streaming(100, 65536, 4));
  // The same with the gateways on a core of their own, as at the edge: the
  // generator and the upstream share core 0 in every row (direct included),
  // so the ratio shows what the gateway in the path costs a stream, not how
  // three CPU-bound processes split two cores.
  const relays = [gateway.pid, gatewayTls.pid, ...(nghttpx === undefined ? [] : [nghttpx.pid])];
  if (pinCores(0, [upstream.pid], 1, relays)) {
    try {
      // 4 streams as above, then 16: with a core of its own the gateway
      // keeps up better the more streams share its upstream session.
      for (const streams of [4, 16]) {
        report.push(
          await streaming(100, 65536, streams, ", gateways on core 1, the rest on core 0"),
        );
      }
    } finally {
      unpinCores([process.pid, upstream.pid, ...relays]);
    }
  }
}
if (only.includes("workers")) {
  report.push(
    await measureWorkers({ dir: out, upstreamUrl, pki, seconds, concurrency, rounds }).then((t) => {
      process.stdout.write(`${t}\n`);
      return t;
    }),
  );
}
if (only.includes("memory")) {
  const memory = [
    await measureSlowReader({ gateway, body: download(3200, 65536) }),
    await measureIdleStreams({
      gateway: gatewayTls,
      ca: pki.ca,
      streams: values.quick ? 1000 : 10_000,
      unaryBody: echo100,
    }),
  ].join("\n");
  process.stdout.write(`${memory}\n`);
  report.push(memory);
}

if (only.includes("footprint")) {
  // As shipped; then with buffer reclaim turned on (opt-in; its forced GCs
  // want V8's memory reducer off, GATEWAY_NODE_FLAGS' documented pairing);
  // then as shipped in a 256 MiB container (a memory cgroup, when this
  // machine lets the bench make one).
  const variants: Array<Partial<Parameters<typeof measureFootprint>[0]>> = [
    {},
    {
      config: { memory: { reclaimAfterBytes: 4 * 2 ** 20 } },
      env: { GATEWAY_NODE_FLAGS: [...GATEWAY_NODE_FLAGS, "--no-memory-reducer"].join(" ") },
      label: "memory.reclaimAfterBytes: 4194304, GATEWAY_NODE_FLAGS + --no-memory-reducer",
    },
    { memoryLimitMiB: 256 },
  ];
  for (const variant of variants) {
    const footprint = await measureFootprint({
      dir: out,
      upstreamUrl,
      pki,
      seconds,
      concurrency,
      ...variant,
    });
    process.stdout.write(`${footprint}\n`);
    report.push(footprint);
  }
}

const header = `Run: ${new Date().toISOString()} · ${seconds} s × ${rounds} rounds per target · concurrency ${concurrency} · ${values.upstream === "go" ? "grpc-go" : "Node"} upstream\n`;
writeFileSync(join(out, "last-run.md"), `${header}\n${report.join("\n")}`);
await Promise.all(
  [gateway, gatewayTls, gatewayAuth, bareRelay, peer, nghttpx, upstream].map((c) => c?.stop()),
);
await idp.close();
process.exit(0);
