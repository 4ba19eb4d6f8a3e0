/**
 * Both upstreams, one set of assertions: real servers on 127.0.0.1 with
 * mutual TLS, called by a real gRPC client (connect-node over HTTP/2).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "@grpc-edge/proto/grpc/health/v1/health";
import { startConnectUpstream } from "./connect-server.ts";
import { startGrpcJsUpstream } from "./grpc-js-server.ts";
import { ensureDevPki } from "./pki.ts";
import { createTestClients, type TestClients } from "./test-clients.ts";
import type { RunningUpstream } from "./upstream.ts";

const dir = await mkdtemp(join(tmpdir(), "notes-upstream-"));
const pki = await ensureDevPki({ dir, log: () => {} });
after(() => rm(dir, { recursive: true, force: true }));

/** Asserts `promise` rejects with a ConnectError of `code`; returns it for more checks. */
async function rejectsWith(promise: Promise<unknown>, code: Code): Promise<ConnectError> {
  const error = await promise.then(
    () => assert.fail(`expected ${Code[code]}, the call succeeded`),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(error.code, code, `expected ${Code[code]}, got ${Code[error.code]}`);
  return error;
}

for (const start of [startConnectUpstream, startGrpcJsUpstream]) {
  describe(`${start.name}`, () => {
    let upstream: RunningUpstream;
    let client: TestClients;
    before(async () => {
      upstream = await start({ tls: pki });
      client = createTestClients(upstream.url, {
        ca: pki.ca,
        cert: pki.clientCert,
        key: pki.clientKey,
      });
    });
    after(() => upstream.close());

    it("creates a note authored by x-auth-subject, and gets it back", async () => {
      const headers = { "x-auth-subject": "alice" };
      const { note } = await client.notes.createNote({ text: "hello" }, { headers });
      assert.equal(note?.text, "hello");
      assert.equal(note?.author, "alice");
      const got = await client.notes.getNote({ id: note.id });
      assert.deepEqual(got.note, note);
      const anonymous = await client.notes.createNote({ text: "anonymous" });
      assert.equal(anonymous.note?.author, "");
    });

    it("answers NOT_FOUND for a missing note", async () => {
      await rejectsWith(client.notes.getNote({ id: "no-such-note" }), Code.NotFound);
      await rejectsWith(client.notes.deleteNote({ id: "no-such-note" }), Code.NotFound);
    });

    it("deletes a note", async () => {
      const { note } = await client.notes.createNote({ text: "short-lived" });
      await client.notes.deleteNote({ id: note?.id ?? "" });
      await rejectsWith(client.notes.getNote({ id: note?.id ?? "" }), Code.NotFound);
    });

    it("streams every note in ListNotes", async () => {
      const expected = upstream.store.list().map((note) => note.id);
      const listed: string[] = [];
      for await (const { note } of client.notes.listNotes({})) listed.push(note?.id ?? "");
      assert.ok(expected.length >= 2);
      assert.deepEqual(listed, expected);
    });

    it("ends WatchNotes after max_events", async () => {
      const sequences: bigint[] = [];
      for await (const event of client.notes.watchNotes({ intervalMs: 10, maxEvents: 3 })) {
        sequences.push(event.sequence);
      }
      assert.deepEqual(sequences, [1n, 2n, 3n]);
    });

    it("fails with the requested code, message and custom trailer", async () => {
      const stream = client.notes.fail({
        code: Code.PermissionDenied,
        message: "denied on purpose",
        trailers: { "x-reason": "policy" },
      });
      const error = await rejectsWith(drain(stream), Code.PermissionDenied);
      assert.equal(error.rawMessage, "denied on purpose");
      assert.equal(error.metadata.get("x-reason"), "policy");
    });

    it("fails after streaming messages_before messages", async () => {
      let received = 0;
      const stream = client.notes.fail({ code: Code.Unavailable, messagesBefore: 2 });
      await rejectsWith(
        drain(stream, () => received++),
        Code.Unavailable,
      );
      assert.equal(received, 2);
    });

    it("ends OK when Fail is asked for code 0", async () => {
      let received = 0;
      let trailers = new Headers();
      const stream = client.notes.fail(
        { code: 0, messagesBefore: 1, trailers: { "x-done": "yes" } },
        {
          onTrailer: (t) => {
            trailers = t;
          },
        },
      );
      await drain(stream, () => received++);
      assert.equal(received, 1);
      assert.equal(trailers.get("x-done"), "yes");
    });

    it("echoes the request metadata it received", async () => {
      const headers = new Headers([
        ["x-custom", "value-1"],
        ["x-repeated", "a"],
        ["x-repeated", "b"],
      ]);
      const echoed = await client.notes.echoMetadata({}, { headers });
      assert.equal(echoed.headers["x-custom"], "value-1");
      assert.equal(echoed.headers["x-repeated"], "a, b");
    });

    it("echoes a payload", async () => {
      const payload = new Uint8Array([0, 1, 2, 255]);
      assert.deepEqual((await client.notes.echo({ payload })).payload, payload);
    });

    it("downloads chunk_count chunks of chunk_bytes", async () => {
      const chunks: { index: number; length: number; first: number | undefined }[] = [];
      for await (const { index, data } of client.notes.download({
        chunkCount: 3,
        chunkBytes: 1000,
      })) {
        chunks.push({ index, length: data.length, first: data[0] });
      }
      assert.deepEqual(chunks, [
        { index: 0, length: 1000, first: 0 },
        { index: 1, length: 1000, first: 1 },
        { index: 2, length: 1000, first: 2 },
      ]);
    });

    it("reports health, and NOT_SERVING once switched off", async () => {
      const service = NotesService.typeName;
      assert.equal((await client.health.check({ service: "" })).status, ServingStatus.SERVING);
      assert.equal((await client.health.check({ service })).status, ServingStatus.SERVING);
      await rejectsWith(client.health.check({ service: "no.such.Service" }), Code.NotFound);

      const abort = new AbortController();
      const watch = client.health
        .watch({ service }, { signal: abort.signal })
        [Symbol.asyncIterator]();
      assert.equal((await watch.next()).value?.status, ServingStatus.SERVING);
      upstream.health.setServing(service, false);
      try {
        assert.equal((await watch.next()).value?.status, ServingStatus.NOT_SERVING);
        assert.equal((await client.health.check({ service })).status, ServingStatus.NOT_SERVING);
        // The server as a whole is not ready while one of its services is not.
        const whole = await client.health.check({ service: "" });
        assert.equal(whole.status, ServingStatus.NOT_SERVING);
      } finally {
        abort.abort();
        upstream.health.setServing(service, true);
      }
    });
  });
}

/** Reads a server stream to its end, calling `onMessage` for each message. */
async function drain(stream: AsyncIterable<unknown>, onMessage = () => {}): Promise<void> {
  for await (const _ of stream) onMessage();
}
