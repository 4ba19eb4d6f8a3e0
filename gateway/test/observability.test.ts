// What operators and people debugging a call see: /metrics counting what
// happened, W3C trace context and the request id reaching the upstream and
// the access line, and unknown methods refused with a descriptor set.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { callLines } from "./support/gateway.ts";
import { type Stack, startStack } from "./support/stack.ts";
import { waitFor } from "./support/wait.ts";

const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** A real buf image of the repo's protos (what `descriptorSet` expects). */
function buildImage(): string {
  const file = join(mkdtempSync(join(tmpdir(), "gw-image-")), "image.binpb");
  execFileSync("npx", ["--no-install", "buf", "build", "-o", file], {
    cwd: REPO_ROOT,
    stdio: "ignore",
  });
  return file;
}

async function metric(stack: Stack, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${stack.gateway.url}/metrics`)).text();
  const match = text.match(pattern);
  return match === null ? undefined : Number(match[1]);
}

describe("observability", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ impl: "connect-node", gateway: { descriptorSet: buildImage() } });
  });
  after(() => stack.close());
  const client = () =>
    createClient(NotesService, createGrpcWebTransport({ baseUrl: stack.gateway.url }));

  it("serves the process's own metrics: CPU, memory, GC pauses by kind, event-loop lag", async () => {
    // The gateway runs in this process: garbage made here is collected there.
    let junk: object[] = [];
    for (let i = 0; i < 3_000_000; i++) {
      junk.push({ i });
      if (junk.length > 100_000) junk = [];
    }
    // GC entries reach the observer asynchronously.
    await waitFor(
      async () =>
        ((await metric(stack, /^nodejs_gc_duration_seconds_count\{kind="minor"\} (\d+)$/m)) ?? 0) >=
        1,
    );
    assert.ok(((await metric(stack, /^process_cpu_user_seconds_total (\S+)$/m)) ?? 0) > 0);
    assert.ok(((await metric(stack, /^process_resident_memory_bytes (\d+)$/m)) ?? 0) > 2 ** 20);
    assert.notEqual(await metric(stack, /^nodejs_eventloop_lag_p99_seconds (\S+)$/m), undefined);
    assert.notEqual(
      await metric(stack, /^nodejs_heap_space_size_used_bytes\{space="new"\} (\d+)$/m),
      undefined,
    );
  });

  it("counts calls by method and status, and bytes", async () => {
    await client().echo({ payload: new Uint8Array(100) });
    await assert.rejects(client().getNote({ id: "missing" }));
    assert.ok(
      ((await metric(
        stack,
        /grpc_edge_calls_total\{service="demo.notes.v1.NotesService",method="Echo",grpc_code="ok",reason=""\} (\d+)/,
      )) ?? 0) >= 1,
    );
    assert.equal(
      await metric(
        stack,
        /grpc_edge_calls_total\{service="demo.notes.v1.NotesService",method="GetNote",grpc_code="not_found",reason=""\} (\d+)/,
      ),
      1,
    );
    assert.ok(
      ((await metric(
        stack,
        /grpc_edge_bytes_total\{service="demo.notes.v1.NotesService",method="Echo",direction="in"\} (\d+)/,
      )) ?? 0) >= 105,
    );
    assert.ok(
      ((await metric(
        stack,
        /grpc_edge_bytes_total\{service="demo.notes.v1.NotesService",method="Echo",direction="out"\} (\d+)/,
      )) ?? 0) >= 105,
    );
    assert.ok(
      ((await metric(
        stack,
        /grpc_edge_call_duration_seconds_count\{service="demo.notes.v1.NotesService",method="Echo"\} (\d+)/,
      )) ?? 0) >= 1,
    );
  });

  it("shows a stream in active calls until it ends", async () => {
    const active = () =>
      metric(
        stack,
        /grpc_edge_active_calls\{service="demo.notes.v1.NotesService",method="WatchNotes"\} (\d+)/,
      );
    const controller = new AbortController();
    const events: bigint[] = [];
    const watching = (async () => {
      for await (const e of client().watchNotes({ intervalMs: 10 }, { signal: controller.signal }))
        events.push(e.sequence);
    })().catch((e: unknown) => e);
    await waitFor(() => events.length >= 2);
    assert.equal(await active(), 1);
    controller.abort();
    assert.equal(ConnectError.from(await watching).code, Code.Canceled);
    await waitFor(async () => (await active()) === 0);
  });

  it("reports upstream sessions by state", async () => {
    assert.ok(
      ((await metric(
        stack,
        /grpc_edge_upstream_sessions\{upstream="notes",state="ready"\} (\d+)/,
      )) ?? 0) >= 1,
    );
  });

  it("passes traceparent upstream and ties the request id to the access line", async () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let requestId: string | null = null;
    const { headers } = await client().echoMetadata(
      {},
      {
        headers: { traceparent, "x-request-id": "req-123" },
        onHeader: (h) => {
          requestId = h.get("x-request-id");
        },
      },
    );
    assert.equal(headers.traceparent, traceparent);
    assert.equal(headers["x-request-id"], "req-123");
    assert.equal(requestId, "req-123");
    const line = callLines(stack.gateway.logs).find((l) => l.reqId === "req-123");
    assert.equal(line?.path, "/demo.notes.v1.NotesService/EchoMetadata");
  });

  it("answers 12 unknown_method for a method missing from the descriptor set, without the upstream", async () => {
    const res = await fetch(`${stack.gateway.url}/demo.notes.v1.NotesService/NoSuchMethod`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: new Uint8Array(5),
    });
    assert.equal(res.headers.get("grpc-status"), "12");
    assert.equal(res.headers.get("grpc-edge-reason"), "unknown_method");
    const line = callLines(stack.gateway.logs).at(-1);
    assert.equal(line?.reason, "unknown_method");
    assert.equal(line?.service, "unknown");
  });
});
