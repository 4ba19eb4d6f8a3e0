// Upstream connections that die silently are noticed: a real connect-node
// upstream behind a TCP proxy that the test freezes (it stops forwarding
// without closing, as a NAT that dropped the connection). The gateway PINGs
// quiet sessions, replaces one whose PING goes unanswered, and counts why
// each session closed in /metrics.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { RunningUpstream } from "@grpc-edge/example-upstream";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { startGateway, type TestGateway } from "./support/gateway.ts";
import { gatewayConfig, startUpstream, type TestPki, testPki } from "./support/stack.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";
import { waitFor } from "./support/wait.ts";

const PING_INTERVAL_MS = 200;
const PING_TIMEOUT_MS = 1000;

/** The gateway config for one upstream at `address`, with keepalive settings. */
function withUpstream(pki: TestPki, address: string, keepalive: Record<string, number>) {
  const config = gatewayConfig(pki, address);
  const [upstream] = config.upstreams as Array<Record<string, unknown>>;
  Object.assign(upstream as object, keepalive);
  return config;
}

async function closedSessions(gw: TestGateway, reason: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const match = new RegExp(
    `^grpc_edge_upstream_sessions_closed_total\\{upstream="notes",reason="${reason}"\\} (\\d+)$`,
    "m",
  ).exec(text);
  return Number(match?.[1] ?? 0);
}

describe("upstream keepalive", () => {
  let pki: TestPki;
  let upstream: RunningUpstream;
  let proxy: TcpProxy;
  let gw: TestGateway;
  const notes = () => createClient(NotesService, createGrpcWebTransport({ baseUrl: gw.url }));

  before(async () => {
    pki = await testPki();
    upstream = await startUpstream("connect-node", pki);
    proxy = await startTcpProxy(Number(new URL(upstream.url).port));
    gw = await startGateway(
      withUpstream(pki, proxy.url, {
        pingIntervalMs: PING_INTERVAL_MS,
        pingTimeoutMs: PING_TIMEOUT_MS,
        idleConnectionTimeoutMs: 0,
      }),
    );
  });
  after(async () => {
    await gw?.close();
    await proxy?.close();
    await upstream?.close();
  });

  it("PINGs a quiet session; when the PING goes unanswered the next call succeeds on a fresh session within pingTimeoutMs", async () => {
    assert.equal((await notes().echo({ payload: new Uint8Array([1]) })).payload.length, 1);
    const connections = proxy.connections();
    const before = await closedSessions(gw, "ping_timeout");
    proxy.freeze();
    // The session has been quiet for pingIntervalMs: the gateway sent a PING
    // into the frozen connection, and a new call waits for its answer.
    const swallowed = proxy.swallowed();
    await waitFor(() => proxy.swallowed() > swallowed);
    const started = performance.now();
    const reply = await notes().echo({ payload: new Uint8Array([2, 3]) });
    const elapsed = performance.now() - started;
    assert.deepEqual([...reply.payload], [2, 3]);
    assert.equal(proxy.connections(), connections + 1, "a fresh session");
    // Within the PING timeout (and far from TCP's own minutes), with room for a slow machine.
    assert.ok(elapsed < PING_TIMEOUT_MS + 2000, `took ${elapsed} ms`);
    // Counted once the session has closed.
    await waitFor(async () => (await closedSessions(gw, "ping_timeout")) === before + 1);
  });

  it("ends a stream on a connection that froze with 14 upstream_ping_timeout", async () => {
    const before = await closedSessions(gw, "ping_timeout");
    // The first event comes at once, the next in a minute: a quiet stream.
    const events = notes().watchNotes({ intervalMs: 60_000 })[Symbol.asyncIterator]();
    assert.equal((await events.next()).value?.sequence, 1n);
    proxy.freeze();
    const err = await events.next().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err?.code, Code.Unavailable);
    assert.equal(err?.metadata.get("grpc-edge-reason"), "upstream_ping_timeout");
    await waitFor(async () => (await closedSessions(gw, "ping_timeout")) === before + 1);
    assert.equal((await notes().echo({ payload: new Uint8Array([4]) })).payload[0], 4);
  });

  it("closes a session idle past idleConnectionTimeoutMs; the next call opens another", async () => {
    const idle = await startGateway(
      withUpstream(pki, upstream.url, { pingIntervalMs: 0, idleConnectionTimeoutMs: 200 }),
    );
    try {
      const client = createClient(NotesService, createGrpcWebTransport({ baseUrl: idle.url }));
      await client.echo({ payload: new Uint8Array([5]) });
      const pool = idle.gateway.app.grpcWebGateway.upstreams[0];
      await waitFor(async () => (await closedSessions(idle, "idle")) === 1);
      assert.equal(pool?.sessionStates().length, 0);
      assert.equal((await client.echo({ payload: new Uint8Array([6]) })).payload[0], 6);
    } finally {
      await idle.close();
    }
  });
});
