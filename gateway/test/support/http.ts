/**
 * Raw gRPC-Web over HTTP/1.1 (node:http): the bytes on the wire, with no
 * client library deciding what is acceptable.
 */
import { type Agent, request } from "node:http";
import { parseTrailerBlock } from "../../src/grpc-web/trailer-frame.ts";

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly body: Buffer;
}

export function postGrpcWeb(
  baseUrl: string,
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
  agent?: Agent,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}${path}`,
      {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...headers },
        ...(signal === undefined ? {} : { signal }),
        ...(agent === undefined ? {} : { agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]),
            ),
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Splits a gRPC-Web response body into messages and the trailer frame. */
export function parseWebBody(
  raw: Buffer,
  text = false,
): { messages: Buffer[]; trailers: Record<string, string> } {
  const body = text ? decodeConcatenatedBase64(raw.toString("latin1")) : raw;
  const messages: Buffer[] = [];
  let trailers: Record<string, string> = {};
  let i = 0;
  while (i + 5 <= body.length) {
    const flags = body[i] as number;
    const length = body.readUInt32BE(i + 1);
    const payload = body.subarray(i + 5, i + 5 + length);
    if ((flags & 0x80) !== 0) trailers = parseTrailerBlock(payload);
    else messages.push(payload);
    i += 5 + length;
  }
  return { messages, trailers };
}

function decodeConcatenatedBase64(text: string): Buffer {
  // Each chunk may be padded on its own: split after every padded quartet.
  const parts = text.match(/[^=]*(?:=+|$)/g) ?? [];
  return Buffer.concat(parts.filter((p) => p !== "").map((p) => Buffer.from(p, "base64")));
}
