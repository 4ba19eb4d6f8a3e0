// Real clients (connect-web's gRPC-Web transport, protobuf-ts's independent
// gRPC-Web client in binary and text mode) through a real gateway to two
// independent upstream implementations (connect-node, @grpc/grpc-js) over mTLS.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { GrpcWebFetchTransport } from "@protobuf-ts/grpcweb-transport";
import { callLines } from "./support/gateway.ts";
import { protobufTsDownload, protobufTsEcho } from "./support/protobuf-ts.ts";
import { type Stack, startStack, UPSTREAM_IMPLEMENTATIONS } from "./support/stack.ts";

for (const impl of UPSTREAM_IMPLEMENTATIONS) {
  describe(`gateway → ${impl} upstream`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({ impl });
    });
    after(() => stack.close());

    const client = () =>
      createClient(NotesService, createGrpcWebTransport({ baseUrl: stack.gateway.url }));

    it("relays unary calls (connect-web, binary gRPC-Web)", async () => {
      const { note } = await client().createNote({ text: "hello" });
      assert.ok(note?.id);
      const got = await client().getNote({ id: note.id });
      assert.equal(got.note?.text, "hello");
    });

    it("relays an upstream error code and message", async () => {
      await assert.rejects(client().getNote({ id: "no-such-note" }), (e: unknown) => {
        return e instanceof ConnectError && e.code === Code.NotFound;
      });
    });

    it("relays a server stream and its trailers", async () => {
      await client().createNote({ text: "a" });
      await client().createNote({ text: "b" });
      const texts: string[] = [];
      for await (const { note } of client().listNotes({})) texts.push(note?.text ?? "");
      assert.ok(texts.includes("a") && texts.includes("b"));
      const events: bigint[] = [];
      for await (const e of client().watchNotes({ intervalMs: 5, maxEvents: 3 }))
        events.push(e.sequence);
      assert.equal(events.length, 3);
    });

    it("relays errors after messages, with custom trailers", async () => {
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const _ of client().fail({
            code: Code.PermissionDenied,
            message: "nope é%",
            messagesBefore: 2,
            trailers: { "x-why": "policy" },
          })) {
            received++;
          }
        })(),
        (e: unknown) =>
          e instanceof ConnectError &&
          e.code === Code.PermissionDenied &&
          e.rawMessage === "nope é%" &&
          e.metadata.get("x-why") === "policy",
      );
      assert.equal(received, 2);
    });

    it("forwards metadata and strips spoofed identity and gRPC-Web headers", async () => {
      const { headers } = await client().echoMetadata(
        {},
        { headers: { "x-custom": "yes", "x-auth-subject": "spoofed", "x-grpc-web": "1" } },
      );
      assert.equal(headers["x-custom"], "yes");
      assert.equal(headers["x-auth-subject"], undefined);
      assert.equal(headers["x-grpc-web"], undefined);
      assert.ok(headers["x-request-id"]);
    });

    it("serves protobuf-ts's gRPC-Web client in binary and text mode", async () => {
      for (const format of ["binary", "text"] as const) {
        const transport = new GrpcWebFetchTransport({ baseUrl: stack.gateway.url, format });
        const reply = await protobufTsEcho(transport, new Uint8Array([1, 2, 3, 250]));
        assert.deepEqual([...reply], [1, 2, 3, 250], format);
        const download = await protobufTsDownload(transport, { chunkCount: 5, chunkBytes: 1000 });
        assert.deepEqual(download, { sizes: [1000, 1000, 1000, 1000, 1000], status: "OK" }, format);
      }
    });

    it("writes one access line per call, without the token", async () => {
      const before = callLines(stack.gateway.logs).length;
      await client().echo(
        { payload: new Uint8Array(10) },
        { headers: { authorization: "Bearer secret-token-value" } },
      );
      const lines = callLines(stack.gateway.logs).slice(before);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.path, "/demo.notes.v1.NotesService/Echo");
      assert.equal(lines[0]?.grpcStatus, 0);
      assert.ok((lines[0]?.bytesIn as number) > 0 && (lines[0]?.bytesOut as number) > 0);
      assert.equal(typeof lines[0]?.durationMs, "number");
      assert.doesNotMatch(stack.gateway.logText(), /secret-token-value/);
    });
  });
}
