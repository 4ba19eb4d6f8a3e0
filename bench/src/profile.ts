/**
 * `npm run bench:profile`: one gateway under unary load, for working on the
 * per-call path. Starts the echo upstream and a plain HTTP/1.1 gateway,
 * drives it with wrk (or the Node generator with --load node), and prints
 * gateway CPU per call. --cpu-prof writes a V8 CPU profile of the gateway to
 * bench/out/profiles/ (open it in Chrome DevTools or speedscope, or
 * summarize it with bench/src/summarize-profile.ts).
 * --baseline <dir> also runs the gateway from another checkout (say a
 * `git worktree` of main) against the same upstream, alternating the two
 * round by round, to compare a change on this noisy shared machine.
 * Options: --seconds N (default 10), --rounds N (default 1), --concurrency N
 * (default 50), --text (grpc-web-text), --auth (JWT auth on), --stream
 * (100 × 64 KiB server stream per call), --cpu-prof, --load wrk|node,
 * --baseline <dir>, --auth-compare (auth on and off, alternating),
 * --node-flags=<flags> (Node/V8 flags, space-separated, for this checkout's gateway only, after
 * the CLI's own (gateway/src/ops/node-flags.ts, which every gateway here gets), to compare them
 * against --baseline), --baseline-node-flags=<flags> (the same for the --baseline gateway, e.g. the
 * flags that checkout's CLI ran with), --same-bytes (with --auth-compare: the auth-off gateway gets the same
 * authorization header, which it drops, to separate what verifying costs
 * from what receiving a 1 KB header costs), --no-identity (the auth-on gateway sends no x-auth-*
 * identity headers upstream: auth.identityHeaders: []), --one-process (with --auth-compare: auth
 * off is a public method of the same gateway process instead of a second gateway without auth,
 * which takes the difference between two processes' JIT and heap out of the comparison),
 * --public-peer (with --auth-compare, two processes: the auth-off gateway has the same auth
 * section and serves the method through a public rule), --dpop-compare (one gateway with
 * auth.dpop on: a DPoP-bound token with a fresh proof per call against a bearer token, the
 * Node generator signing the proofs; --dpop-redis puts the replay store in a Debian redis-server), --upstream node|go (the echo upstream:
 * Node's http2, or grpc-go built from Debian's packages, bench/go-upstream), --pin (the
 * gateways on core 1, the upstream and load generators on core 0, as at the edge),
 * --gateway-stdout (the gateways' stdout on this one's, for V8 traces given through
 * --node-flags, e.g. "--trace-gc --trace-deopt"; each line names its process id).
 * With two targets and several rounds it also prints the first relative to the second round by
 * round (median, its 95% confidence interval from 6 rounds on, and range of the per-round
 * ratios): how much one run's totals can be trusted.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair } from "jose";
import { startOidcProvider } from "../../gateway/test/support/oidc-provider.ts";
import { startRedis } from "../../gateway/test/support/redis.ts";
import { type Child, runNodeLoad, startEchoUpstream, startGateway } from "./children.ts";
import { ensureDebianTool } from "./debian-tool.ts";
import {
  authAgainst,
  DOWNLOAD,
  download,
  ECHO,
  echo100,
  tlsListen,
  writeGatewayConfig,
} from "./fixtures.ts";
import type { LoadSpec } from "./load-generator.ts";
import { pinCores, unpinCores } from "./proc-stats.ts";
import {
  emptyTally,
  inRoundOrder,
  median,
  perRoundRatios,
  type Spread,
  type Tally,
  tallyRun,
} from "./tally.ts";
import { ensureWrk, runWrk } from "./wrk.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "50" },
    text: { type: "boolean", default: false },
    auth: { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    "gateway-stdout": { type: "boolean", default: false },
    load: { type: "string", default: "wrk" },
    rounds: { type: "string", default: "1" },
    baseline: { type: "string" },
    stream: { type: "boolean", default: false },
    h2: { type: "boolean", default: false },
    "node-flags": { type: "string" },
    "baseline-node-flags": { type: "string" },
    "auth-compare": { type: "boolean", default: false },
    "same-bytes": { type: "boolean", default: false },
    "no-identity": { type: "boolean", default: false },
    "one-process": { type: "boolean", default: false },
    "public-peer": { type: "boolean", default: false },
    "dpop-compare": { type: "boolean", default: false },
    "dpop-redis": { type: "boolean", default: false },
    upstream: { type: "string", default: "node" },
    pin: { type: "boolean", default: false },
    "stream-messages": { type: "string", default: "100" },
    "stream-bytes": { type: "string", default: "65536" },
  },
});
if (values.upstream !== "node" && values.upstream !== "go") {
  console.error(`--upstream is node or go, not ${values.upstream}`);
  process.exit(2);
}
const out = new URL("../out/", import.meta.url).pathname;
const profiles = join(out, "profiles");
mkdirSync(profiles, { recursive: true });
if (values.h2) values.load = "node"; // wrk speaks HTTP/1.1 only
if (values.load === "wrk" && !ensureWrk()) {
  console.error("wrk is not installed (apt-get install wrk): using the Node load generator");
  values.load = "node";
}

/** A method the echo upstream answers like Echo (same path length), public under --one-process. */
const PUBLIC_ECHO = "/demo.notes.v1.NotesService/Ping";

const { pki, upstream, upstreamUrl } = await startEchoUpstream(out, values.upstream);
if (values["auth-compare"] || values["dpop-compare"]) values.auth = true;
if (values["dpop-compare"]) values.load = "node"; // wrk cannot sign a proof per request
const idp = values.auth
  ? await startOidcProvider({ resource: "api://notes", accessTokenTtlSeconds: 3600 })
  : undefined;
const token = await idp?.mintAccessToken({ scope: "notes:read", ttlSeconds: 3600 });
// --dpop-compare: a key pair as the browser's, and a token bound to it.
const dpopKey = values["dpop-compare"]
  ? await generateKeyPair("ES256", { extractable: true })
  : undefined;
const dpop = dpopKey &&
  idp && {
    accessToken: await idp.mintAccessToken({
      scope: "notes:read",
      ttlSeconds: 3600,
      dpopKey: { privateKey: dpopKey.privateKey, publicJwk: await exportJWK(dpopKey.publicKey) },
    }),
    privateJwk: (await exportJWK(dpopKey.privateKey)) as Record<string, string>,
    publicJwk: (await exportJWK(dpopKey.publicKey)) as Record<string, string>,
  };
if (values["dpop-redis"] && !ensureDebianTool("redis-server", "redis-server")) {
  console.error("--dpop-redis needs Debian's redis-server (apt-get install redis-server)");
  process.exit(2);
}
const redis = values["dpop-redis"] ? await startRedis() : undefined;
const listen = values.h2 ? tlsListen(pki) : {};
const authSection = idp && {
  ...authAgainst(idp.issuer).auth,
  ...(values["no-identity"] ? { identityHeaders: [] } : {}),
  ...(dpop ? { dpop: { mode: "allowed", replayStore: redis?.url ?? "memory" } } : {}),
};
const config = writeGatewayConfig(
  out,
  upstreamUrl,
  pki,
  authSection === undefined
    ? listen
    : {
        ...listen,
        auth: {
          ...authSection,
          // --one-process: auth off is a public method of the same gateway.
          ...(values["one-process"]
            ? { rules: [{ methods: [PUBLIC_ECHO], policy: "public" }] }
            : {}),
        },
      },
);
const before = new Set(readdirSync(profiles));
const cpuProf = [
  ...(values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profiles}`] : []),
  ...(values["node-flags"]?.split(" ").filter((f) => f !== "") ?? []),
];
const stdout = values["gateway-stdout"];
const gateway = await startGateway(config, { execArgv: cpuProf, stdout });
const targets: Array<{
  name: string;
  child: Child;
  noAuth?: true;
  path?: string;
  dpop?: typeof dpop;
}> = dpop
  ? [
      {
        name: `DPoP-bound token + proof (replay store: ${redis ? "Redis" : "memory"})`,
        child: gateway,
        dpop,
      },
      { name: "bearer token, same gateway", child: gateway },
    ]
  : [{ name: "this checkout", child: gateway }];
if (values["auth-compare"] && values["one-process"]) {
  // The same process, a method whose policy is public: no token is parsed,
  // no identity sent; same JIT state and heap as the auth-on calls.
  targets.push({
    name: "this checkout, public method (auth off), same process",
    child: gateway,
    noAuth: true,
    path: PUBLIC_ECHO,
  });
} else if (values["auth-compare"]) {
  // The same checkout without auth, alternating with the one with auth.
  // --public-peer: the auth-off gateway has the same auth section but serves the method as a
  // public rule, so both processes load and configure the same auth code.
  const plain = writeGatewayConfig(
    out,
    upstreamUrl,
    pki,
    values["public-peer"]
      ? { ...listen, auth: { ...authSection, rules: [{ methods: [ECHO], policy: "public" }] } }
      : listen,
  );
  targets.push({
    name: "this checkout, auth off",
    child: await startGateway(plain, { execArgv: cpuProf, stdout }),
    noAuth: true,
  });
}
if (values.baseline !== undefined) {
  // The same gateway-process script, run from another checkout's sources.
  const module = resolve(values.baseline, "bench/src/gateway-process.ts");
  targets.push({
    name: `baseline ${values.baseline}`,
    child: await startGateway(config, {
      execArgv: values["baseline-node-flags"]?.split(" ").filter((f) => f !== "") ?? [],
      module,
      stdout,
    }),
  });
}
// --stream: server streaming, 100 messages of 64 KiB per call unless told otherwise.
const message = values.stream
  ? download(Number(values["stream-messages"]), Number(values["stream-bytes"]))
  : echo100;
const body = values.text ? Buffer.from(message.toString("base64")) : message;
const specFor = (child: Child, noAuth = false, path?: string, proofs?: typeof dpop): LoadSpec => ({
  protocol: values.h2 ? "h2" : "h1",
  url: `${values.h2 ? "https" : "http"}://127.0.0.1:${child.port}`,
  ...(values.h2 ? { tls: { ca: pki.ca } } : {}),
  path: path ?? (values.stream ? DOWNLOAD : ECHO),
  contentType: values.text ? "application/grpc-web-text" : "application/grpc-web+proto",
  body: body.toString("base64"),
  textResponse: values.text,
  nativeGrpc: false,
  concurrency: Number(values.concurrency),
  seconds: Number(values.seconds),
  ...(token === undefined || (noAuth && !values["same-bytes"]) || proofs !== undefined
    ? {}
    : { headers: { authorization: `Bearer ${token}` } }),
  ...(proofs === undefined ? {} : { dpop: proofs }),
});
const load = values.load === "wrk" ? runWrk : runNodeLoad;
// Children must not outlive a failed run.
process.once("uncaughtException", (err) => {
  console.error(err);
  for (const c of [...targets.map((t) => t.child), upstream]) c.process.kill("SIGKILL");
  process.exit(1);
});
process.once("unhandledRejection", (err) => {
  throw err;
});
// --pin: the gateways on core 1, everything else (this process, hence the
// load generators it starts, and the upstream) on core 0, as at the edge:
// each gateway's throughput is then bounded by its own core.
const gatewayPids = [...new Set(targets.map((t) => t.child.pid))];
const pinned = values.pin && pinCores(0, [upstream.pid], 1, gatewayPids);
const totals = new Map<string, Tally>();
// Warm up (JIT, sessions), then alternate targets round by round, in
// reverse order every other round (see inRoundOrder).
for (const t of targets) await load({ ...specFor(t.child, t.noAuth, t.path, t.dpop), seconds: 2 });
for (let round = 0; round < Number(values.rounds); round++) {
  for (const t of inRoundOrder(targets, round)) {
    const sum = totals.get(t.name) ?? emptyTally();
    totals.set(t.name, sum);
    await tallyRun(sum, () => load(specFor(t.child, t.noAuth, t.path, t.dpop)), {
      proxy: t.child.pid,
      upstream: upstream.pid,
    });
  }
}
if (pinned) unpinCores([process.pid, upstream.pid, ...gatewayPids]);
console.log(
  `load: ${values.load}, ${values.concurrency} connections, ${values.rounds} × ${values.seconds} s per target, ${values.text ? "text" : "binary"}${values.h2 ? ", HTTP/2 (TLS)" : ""}${values.auth ? ", auth on" : ""}${pinned ? ", gateways on core 1, the rest on core 0" : ""}${values.upstream === "go" ? ", grpc-go upstream" : ""}`,
);
for (const t of targets) {
  const s = totals.get(t.name) as Tally;
  const perCall = (ms: number) => ((ms * 1000) / s.calls).toFixed(1);
  console.log(
    [
      `${t.name}:`,
      `  calls/s ${(s.calls / s.seconds).toFixed(0)}, ${(s.bytes / s.seconds / 1e6).toFixed(1)} MB/s (errors ${s.errors}${s.firstError ? `: ${s.firstError}` : ""}), p50 / p99 ${median(s.p50).toFixed(2)} / ${median(s.p99).toFixed(2)} ms`,
      `  gateway CPU per call ${perCall(s.proxyUserMs + s.proxySystemMs)} µs (user ${perCall(s.proxyUserMs)}, system ${perCall(s.proxySystemMs)}); upstream ${perCall(s.upstreamCpuMs)} µs; load generator ${perCall(s.generatorCpuMs)} µs; RSS ${(s.rss / 2 ** 20).toFixed(0)} MiB`,
    ].join("\n"),
  );
}
if (targets.length === 2 && Number(values.rounds) > 1) {
  const [first, second] = targets.map((t) => totals.get(t.name) as Tally) as [Tally, Tally];
  const { rate, cpuPerCall } = perRoundRatios(first, second);
  const p = (x: number) => (x * 100).toFixed(1);
  const pct = (s: Spread) =>
    `${p(s.median)}% (${s.interval === undefined ? "" : `95% CI ${p(s.interval.low)}-${p(s.interval.high)}%, `}rounds ${p(s.min)}-${p(s.max)}%)`;
  console.log(
    `${targets[0]?.name} relative to ${targets[1]?.name}, round by round: calls/s ${pct(rate)}, gateway CPU per call ${pct(cpuPerCall)}`,
  );
}
for (const t of targets) await t.child.stop();
await upstream.stop();
await idp?.close();
await redis?.stop();
if (values["cpu-prof"]) {
  const made = readdirSync(profiles).filter((f) => !before.has(f));
  console.log(`profile: ${made.map((f) => join(profiles, f)).join(", ")}`);
}
process.exit(0);
