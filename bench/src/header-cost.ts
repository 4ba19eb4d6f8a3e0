/**
 * What the four x-auth-* identity headers cost Node's HTTP/2 on each side,
 * without the gateway: a client sends the upstream request headers the
 * gateway builds (its own buildUpstreamHeaders and identityHeaders, for a
 * browser's gRPC-Web call and a dev-IdP token's claims) with and without the identity headers
 * to a server that only answers, rounds alternating, and both processes'
 * CPU per request is compared. Cleartext HTTP/2 (h2c): the headers are a
 * few hundred bytes, so TLS would only add noise. Explains the part of
 * "auth on vs off" that is not the gateway's auth code (bench/RESULTS.md).
 *
 *   node --conditions=source bench/src/header-cost.ts [--requests 40000] [--rounds 10]
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { type ClientHttp2Session, connect, createServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { identityHeaders } from "../../gateway/src/auth/principal.ts";
import { buildUpstreamHeaders } from "../../gateway/src/upstream/header-rewrite.ts";
import { median, medianInterval } from "./tally.ts";

/** What the gateway sends upstream for an authenticated call (auth.identityHeaders default). */
const IDENTITY = identityHeaders(
  { sub: "a1b2c3d4-user-0042", iss: "http://127.0.0.1:40123", client_id: "grpc-edge-demo" },
  new Set(["notes:read"]),
);
/** What a browser's gRPC-Web call brings (all of it dropped or replaced upstream). */
const BROWSER = {
  host: "127.0.0.1:8080",
  "content-type": "application/grpc-web+proto",
  "x-grpc-web": "1",
  "content-length": "105",
};

type CpuTime = { user: number; system: number };

if (process.argv[2] === "--server") {
  const server = createServer();
  server.on("stream", (stream) => {
    stream.respond(
      { ":status": 200, "content-type": "application/grpc" },
      { waitForTrailers: true },
    );
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.resume();
    stream.on("end", () => stream.end(Buffer.alloc(15)));
  });
  server.listen(0, "127.0.0.1", () =>
    process.send?.({ port: (server.address() as AddressInfo).port }),
  );
  process.on("message", () => process.send?.(process.cpuUsage()));
} else {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "40000" },
      rounds: { type: "string", default: "10" },
    },
  });
  const requests = Number(values.requests);
  const child = fork(new URL(import.meta.url).pathname, ["--server"], {
    execArgv: ["--conditions=source"],
  });
  const { port } = await new Promise<{ port: number }>((resolve) =>
    child.once("message", resolve as (m: unknown) => void),
  );
  const serverCpu = () =>
    new Promise<CpuTime>((resolve) => {
      child.once("message", resolve as (m: unknown) => void);
      child.send("cpu");
    });
  const session: ClientHttp2Session = connect(`http://127.0.0.1:${port}`);
  const body = Buffer.alloc(105);
  const call = (identity: boolean) =>
    new Promise<void>((resolve, reject) => {
      const headers = buildUpstreamHeaders(BROWSER, {
        path: "/demo.echo.v1.EchoService/Echo",
        authority: "127.0.0.1:50051",
        contentType: "application/grpc",
        timeoutMs: undefined,
        identity: identity ? IDENTITY : undefined,
        requestId: randomUUID(),
        remoteAddress: "127.0.0.1",
        forwardedProto: "http",
      });
      const stream = session.request(headers);
      stream.on("error", reject);
      stream.resume();
      stream.on("end", resolve);
      stream.end(body);
    });
  // 50 callers in a closed loop, like the bench's wrk runs.
  const run = async (identity: boolean, n: number) => {
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let i = 0; i < n / 50; i++) await call(identity);
      }),
    );
  };
  const measure = async (identity: boolean) => {
    const client0 = process.cpuUsage();
    const server0 = await serverCpu();
    await run(identity, requests);
    const client = process.cpuUsage(client0);
    const server1 = await serverCpu();
    const us = (t: CpuTime) => (t.user + t.system) / requests;
    return {
      client: us(client),
      server: us({ user: server1.user - server0.user, system: server1.system - server0.system }),
    };
  };
  await run(false, requests / 2);
  await run(true, requests / 2);
  const extra = { client: [] as number[], server: [] as number[] };
  const base = { client: [] as number[], server: [] as number[] };
  for (let round = 0; round < Number(values.rounds); round++) {
    // A B, then B A: neither mode always runs first.
    const order = round % 2 === 0 ? [false, true] : [true, false];
    const got = new Map<boolean, { client: number; server: number }>();
    for (const identity of order) got.set(identity, await measure(identity));
    const without = got.get(false) as { client: number; server: number };
    const withIdentity = got.get(true) as { client: number; server: number };
    base.client.push(without.client);
    base.server.push(without.server);
    extra.client.push(withIdentity.client - without.client);
    extra.server.push(withIdentity.server - without.server);
  }
  const show = (xs: number[]) => {
    const ci = medianInterval(xs);
    return `${median(xs).toFixed(2)} µs${ci === undefined ? "" : ` (95% CI ${ci.low.toFixed(2)} to ${ci.high.toFixed(2)})`}`;
  };
  console.log(
    `${values.rounds} rounds × ${requests} requests per mode, 50 callers, h2c, Node ${process.version}`,
  );
  console.log(
    `without identity headers: client ${median(base.client).toFixed(1)} µs, server ${median(base.server).toFixed(1)} µs CPU per request (medians)`,
  );
  console.log(`the four x-auth-* headers add, per request: sending ${show(extra.client)}`);
  console.log(`                                         receiving ${show(extra.server)}`);
  session.close();
  child.kill();
}
