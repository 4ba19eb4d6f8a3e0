import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, codeFromHttpStatus, decodeGrpcMessage, encodeGrpcMessage } from "./grpc-status.ts";
import { encodeTrailerFrame, parseTrailerBlock } from "./trailer-frame.ts";

describe("grpc-message encoding", () => {
  it("percent-encodes outside 0x20-0x7E and % itself", () => {
    assert.equal(encodeGrpcMessage("plain text"), "plain text");
    assert.equal(encodeGrpcMessage("100%"), "100%25");
    assert.equal(encodeGrpcMessage("é\n"), "%C3%A9%0A");
  });
  it("decodes leniently", () => {
    assert.equal(decodeGrpcMessage("%C3%A9 ok"), "é ok");
    assert.equal(decodeGrpcMessage("bad %zz escape %"), "bad %zz escape %");
  });
});

describe("HTTP status mapping", () => {
  it("follows the gRPC table", () => {
    const table: Record<number, number> = {
      400: Code.INTERNAL,
      401: 16,
      403: 7,
      404: 12,
      429: 14,
      502: 14,
      503: 14,
      504: 14,
      500: 2,
      418: 2,
    };
    for (const [http, grpc] of Object.entries(table))
      assert.equal(codeFromHttpStatus(Number(http)), grpc, http);
  });
});

describe("trailer frame", () => {
  it("is flag 0x80, big-endian length, lower-case key: value lines", () => {
    const frame = encodeTrailerFrame({
      "grpc-status": "0",
      "X-Custom": ["a", "b"],
      ":status": "200",
    });
    assert.equal(frame[0], 0x80);
    assert.equal(frame.readUInt32BE(1), frame.length - 5);
    assert.equal(frame.subarray(5).toString(), "grpc-status: 0\r\nx-custom: a\r\nx-custom: b\r\n");
    assert.deepEqual(parseTrailerBlock(frame.subarray(5)), {
      "grpc-status": "0",
      "x-custom": "a, b",
    });
  });
});
