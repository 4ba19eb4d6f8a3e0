import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../errors.ts";
import { Base64Decoder, encodeBase64Chunk } from "./base64-stream.ts";

function decodeInChunks(text: string, size: number): Buffer {
  const decoder = new Base64Decoder();
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length; i += size)
    parts.push(decoder.push(Buffer.from(text.slice(i, i + size), "latin1")));
  decoder.end();
  return Buffer.concat(parts);
}

describe("Base64Decoder", () => {
  const payload = Buffer.from(Array.from({ length: 257 }, (_, i) => (i * 7) % 256));
  const encoded = payload.toString("base64");

  it("decodes across every chunk size", () => {
    for (let size = 1; size <= 13; size++)
      assert.deepEqual(decodeInChunks(encoded, size), payload, `chunk size ${size}`);
  });

  it("accepts padding at any quartet boundary (frames encoded one by one)", () => {
    const frames = [
      Buffer.from([0, 0, 0, 0, 1, 0x41]),
      Buffer.from([0, 0, 0, 0, 2, 0x42, 0x43]),
      Buffer.from([0x80, 0, 0, 0, 0]),
    ];
    const text = frames.map((f) => f.toString("base64")).join("");
    assert.match(text, /=.+/); // padding in the middle
    for (const size of [1, 3, 4, 5, 100])
      assert.deepEqual(decodeInChunks(text, size), Buffer.concat(frames));
  });

  it("rejects characters outside base64", () => {
    assert.throws(
      () => new Base64Decoder().push(Buffer.from("AAAA*AAA")),
      (e: unknown) => e instanceof GatewayError && e.reason === "invalid_base64",
    );
  });

  it("rejects misplaced padding", () => {
    assert.throws(
      () => new Base64Decoder().push(Buffer.from("A=AA")),
      (e: unknown) => e instanceof GatewayError && e.reason === "invalid_base64",
    );
  });

  it("rejects a body that ends inside a quartet", () => {
    const decoder = new Base64Decoder();
    decoder.push(Buffer.from("AAAAAA"));
    assert.throws(
      () => decoder.end(),
      (e: unknown) => e instanceof GatewayError && e.reason === "invalid_base64",
    );
  });

  it("encodes each response chunk whole and padded", () => {
    assert.equal(encodeBase64Chunk(Buffer.from([1])).toString("latin1"), "AQ==");
  });
});
