/**
 * demo.notes.v1.NotesService, written once as a connect-es ServiceImpl and
 * served by both upstreams (connect-node directly, @grpc/grpc-js through
 * grpc-js-adapter.ts). The comments in notes.proto are the spec.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type {
  FailRequest,
  NotesService,
  WatchNotesRequest,
} from "@grpc-edge/proto/demo/notes/v1/notes";
import type { NotesStore } from "./notes-store.ts";

/** The metadata the gateway sets to the verified caller (DESIGN.md, Names). */
export const authSubjectHeader = "x-auth-subject";
/** WatchNotes' interval when the request says 0. */
export const defaultWatchIntervalMs = 1000;
/** Download refuses larger chunks: one message is held in memory at a time, but not an unbounded one. */
export const maxDownloadChunkBytes = 64 * 1024 * 1024;

/** Creates the service over `store`. */
export function createNotesService(store: NotesStore): ServiceImpl<typeof NotesService> {
  return {
    createNote(request, context) {
      const author = context.requestHeader.get(authSubjectHeader) ?? "";
      return { note: store.create(request.text, author) };
    },
    getNote(request) {
      const note = store.get(request.id);
      if (!note) throw new ConnectError(`no note with id "${request.id}"`, Code.NotFound);
      return { note };
    },
    deleteNote(request) {
      if (!store.delete(request.id)) {
        throw new ConnectError(`no note with id "${request.id}"`, Code.NotFound);
      }
      return {};
    },
    async *listNotes() {
      for (const note of store.list()) yield { note };
    },
    watchNotes,
    fail,
    // On grpc-js, the headers grpc-js consumes itself (te, content-type,
    // grpc-timeout, grpc-*encoding, accept-encoding) are not visible here.
    echoMetadata(_request, context) {
      return { headers: headerRecord(context.requestHeader) };
    },
    echo: (request) => ({ payload: request.payload }),
    async *download(request) {
      if (request.chunkBytes > maxDownloadChunkBytes) {
        throw new ConnectError(
          `chunk_bytes may be at most ${maxDownloadChunkBytes}`,
          Code.InvalidArgument,
        );
      }
      // A generator is pulled one message at a time, when the transport can
      // take more: a slow reader holds the server at one chunk in memory.
      for (let index = 0; index < request.chunkCount; index++) {
        yield { index, data: new Uint8Array(request.chunkBytes).fill(index & 0xff) };
      }
    },
  };

  /**
   * The first event goes out at once (so a client sees the stream open), then
   * one per interval. The sleep takes the call's signal: a cancelled call
   * clears its timer instead of leaving it to fire.
   */
  async function* watchNotes(request: WatchNotesRequest, context: HandlerContext) {
    const intervalMs = request.intervalMs || defaultWatchIntervalMs;
    for (let sequence = 1; request.maxEvents === 0 || sequence <= request.maxEvents; sequence++) {
      if (sequence > 1) await sleep(intervalMs, undefined, { signal: context.signal });
      yield { sequence: BigInt(sequence), note: store.latest() };
    }
  }
}

/** Streams `messages_before` empty messages, then ends with the requested status and trailers. */
async function* fail(request: FailRequest, context: HandlerContext) {
  if (request.code > 16) {
    throw new ConnectError(`code must be 0..16, got ${request.code}`, Code.InvalidArgument);
  }
  const trailers = requestedTrailers(request.trailers);
  for (let i = 0; i < request.messagesBefore; i++) yield {};
  if (request.code === 0) {
    for (const [name, value] of trailers) context.responseTrailer.append(name, value);
    return;
  }
  // ConnectError metadata becomes trailers (or trailers-only headers when no
  // message was sent) on both servers.
  throw new ConnectError(request.message, request.code as Code, trailers);
}

/**
 * Checks the requested trailers against gRPC's metadata rules (lowercase
 * 0-9 a-z _ . -, printable ASCII values; the grpc- prefix is reserved), so
 * that both servers accept or refuse the same requests.
 */
function requestedTrailers(requested: Record<string, string>): Headers {
  const trailers = new Headers();
  for (const [name, value] of Object.entries(requested)) {
    if (!/^[0-9a-z_.-]+$/.test(name) || name.startsWith("grpc-")) {
      throw new ConnectError(`trailer name "${name}" is not allowed`, Code.InvalidArgument);
    }
    if (!/^[\x20-\x7e]*$/.test(value)) {
      throw new ConnectError(`trailer "${name}" has a non-printable value`, Code.InvalidArgument);
    }
    trailers.append(name, value);
  }
  return trailers;
}

/** Lowercase name → value; Headers already joins repeated fields with ", ". */
function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  return record;
}
