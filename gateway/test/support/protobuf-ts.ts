/**
 * An independent gRPC-Web client: protobuf-ts's transport with message types
 * declared through protobuf-ts's own runtime (not protobuf-es), so the bytes
 * the gateway relays are produced and read by a second implementation.
 */
import type { GrpcWebFetchTransport } from "@protobuf-ts/grpcweb-transport";
import { MessageType, ScalarType } from "@protobuf-ts/runtime";
import { ServiceType } from "@protobuf-ts/runtime-rpc";

interface Payload {
  payload: Uint8Array;
}
interface DownloadRequest {
  chunkCount: number;
  chunkBytes: number;
}
interface DownloadResponse {
  index: number;
  data: Uint8Array;
}

const bytesField = [{ no: 1, name: "payload", kind: "scalar", T: ScalarType.BYTES }] as const;
const EchoRequest = new MessageType<Payload>("demo.notes.v1.EchoRequest", [...bytesField]);
const EchoResponse = new MessageType<Payload>("demo.notes.v1.EchoResponse", [...bytesField]);
const DownloadRequestType = new MessageType<DownloadRequest>("demo.notes.v1.DownloadRequest", [
  { no: 1, name: "chunk_count", kind: "scalar", T: ScalarType.UINT32 },
  { no: 2, name: "chunk_bytes", kind: "scalar", T: ScalarType.UINT32 },
]);
const DownloadResponseType = new MessageType<DownloadResponse>("demo.notes.v1.DownloadResponse", [
  { no: 1, name: "index", kind: "scalar", T: ScalarType.UINT32 },
  { no: 2, name: "data", kind: "scalar", T: ScalarType.BYTES },
]);

const Notes = new ServiceType("demo.notes.v1.NotesService", [
  { name: "Echo", I: EchoRequest, O: EchoResponse, options: {} },
  {
    name: "Download",
    I: DownloadRequestType,
    O: DownloadResponseType,
    serverStreaming: true,
    options: {},
  },
]);

/** A unary Echo call; resolves with the payload echoed back. */
export async function protobufTsEcho(
  transport: GrpcWebFetchTransport,
  payload: Uint8Array,
): Promise<Uint8Array> {
  const method = Notes.methods[0];
  if (method === undefined) throw new Error("no Echo method");
  const call = transport.unary(method, { payload }, transport.mergeOptions({}));
  const response = (await call.response) as Payload;
  const status = await call.status;
  if (status.code !== "OK") throw new Error(`Echo ended with ${status.code}`);
  return response.payload;
}

/** A Download stream; resolves with the chunk sizes received and the final status. */
export async function protobufTsDownload(
  transport: GrpcWebFetchTransport,
  request: DownloadRequest,
): Promise<{ sizes: number[]; status: string }> {
  const method = Notes.methods[1];
  if (method === undefined) throw new Error("no Download method");
  const call = transport.serverStreaming(method, request, transport.mergeOptions({}));
  const sizes: number[] = [];
  for await (const message of call.responses) sizes.push((message as DownloadResponse).data.length);
  const status = await call.status;
  return { sizes, status: status.code };
}
