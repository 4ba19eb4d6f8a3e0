/**
 * The service logic called directly, without a server: the cases where a
 * wire test could not tell a right answer from a lucky one (a timer left
 * running after a cancel, a refused request that never reaches a stream).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import {
  DownloadRequestSchema,
  FailRequestSchema,
  NotesService,
  WatchNotesRequestSchema,
} from "@grpc-edge/proto/demo/notes/v1/notes";
import { createNotesService, maxDownloadChunkBytes } from "./notes-service.ts";
import { createNotesStore } from "./notes-store.ts";

function context(method: (typeof NotesService.methods)[number]) {
  return createHandlerContext({
    service: NotesService,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `https://127.0.0.1/${NotesService.typeName}/${method.name}`,
  });
}

async function codeOf(promise: Promise<unknown>): Promise<Code> {
  return promise.then(
    () => assert.fail("expected an error"),
    (error: unknown) => ConnectError.from(error).code,
  );
}

describe("NotesService logic", () => {
  const service = createNotesService(createNotesStore());

  it("WatchNotes clears its timer when the call is aborted", { timeout: 5000 }, async () => {
    const ctx = context(NotesService.method.watchNotes);
    const request = create(WatchNotesRequestSchema, { intervalMs: 3_600_000 });
    const events = service.watchNotes(request, ctx)[Symbol.asyncIterator]();
    assert.equal((await events.next()).value?.sequence, 1n);
    const waiting = events.next();
    const startedAt = Date.now();
    ctx.abort();
    // A timer left running would also keep this test process alive for an hour.
    await assert.rejects(waiting, { name: "AbortError" });
    assert.ok(Date.now() - startedAt < 1000);
  });

  it("WatchNotes carries the newest note", async () => {
    const store = createNotesStore();
    const withNotes = createNotesService(store);
    store.create("older", "");
    const newest = store.create("newest", "bob");
    const request = create(WatchNotesRequestSchema, { intervalMs: 1, maxEvents: 1 });
    const events = [];
    for await (const event of withNotes.watchNotes(
      request,
      context(NotesService.method.watchNotes),
    ))
      events.push(event);
    assert.deepEqual(events, [{ sequence: 1n, note: newest }]);
  });

  it("Fail refuses codes outside 0..16 and trailer names gRPC does not allow", async () => {
    const ctx = context(NotesService.method.fail);
    for (const init of [
      { code: 17 },
      { code: 2, trailers: { "Upper-Case": "x" } },
      { code: 2, trailers: { "grpc-status": "0" } },
      { code: 2, trailers: { "x-ok": "new\nline" } },
    ]) {
      const stream = service.fail(create(FailRequestSchema, init), ctx);
      assert.equal(await codeOf(stream[Symbol.asyncIterator]().next()), Code.InvalidArgument);
    }
  });

  it("Fail with code 0 sets the requested trailers and ends OK", async () => {
    const ctx = context(NotesService.method.fail);
    const request = create(FailRequestSchema, { code: 0, trailers: { "x-seen": "yes" } });
    for await (const _ of service.fail(request, ctx)) assert.fail("no message was asked for");
    assert.equal(ctx.responseTrailer.get("x-seen"), "yes");
  });

  it("Download refuses chunks over the limit", async () => {
    const request = create(DownloadRequestSchema, {
      chunkCount: 1,
      chunkBytes: maxDownloadChunkBytes + 1,
    });
    const stream = service.download(request, context(NotesService.method.download));
    assert.equal(await codeOf(stream[Symbol.asyncIterator]().next()), Code.InvalidArgument);
  });
});
