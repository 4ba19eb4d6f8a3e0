import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../errors.ts";
import { FrameScanner } from "./frame-scanner.ts";

function frame(flags: number, length: number): Buffer {
  const f = Buffer.alloc(5 + length, 0x61);
  f[0] = flags;
  f.writeUInt32BE(length, 1);
  return f;
}

const options = {
  maxMessageBytes: 100,
  direction: "request",
  allowCompressed: false,
  allowTrailer: true,
} as const;

describe("FrameScanner", () => {
  it("follows frames across arbitrary chunk boundaries, zero-length included", () => {
    const bytes = Buffer.concat([frame(0, 3), frame(0, 0), frame(0, 50), frame(0x80, 10)]);
    for (let size = 1; size <= 17; size++) {
      const scanner = new FrameScanner(options);
      for (let i = 0; i < bytes.length; i += size) {
        scanner.push(bytes.subarray(i, i + size));
      }
      assert.equal(scanner.frames, 4, `chunk size ${size}`);
      assert.equal(scanner.atBoundary, true);
    }
  });

  it("knows when the bytes stop inside a frame", () => {
    const scanner = new FrameScanner(options);
    scanner.push(frame(0, 10).subarray(0, 7));
    assert.equal(scanner.atBoundary, false);
  });

  it("rejects an oversized message from its prefix, before the bytes arrive", () => {
    const scanner = new FrameScanner(options);
    assert.throws(
      () => scanner.push(frame(0, 101).subarray(0, 5)),
      (e: unknown) => e instanceof GatewayError && e.reason === "message_too_large" && e.code === 8,
    );
  });

  it("rejects compressed frames that were not negotiated", () => {
    assert.throws(
      () => new FrameScanner(options).push(frame(1, 1)),
      (e: unknown) => e instanceof GatewayError && e.reason === "upstream_compressed",
    );
  });

  it("rejects unknown flags and unexpected trailer frames", () => {
    assert.throws(
      () => new FrameScanner(options).push(frame(0x02, 1)),
      (e: unknown) => e instanceof GatewayError && e.reason === "malformed_frame",
    );
    const noTrailers = new FrameScanner({ ...options, allowTrailer: false });
    assert.throws(
      () => noTrailers.push(frame(0x80, 1)),
      (e: unknown) => e instanceof GatewayError && e.reason === "malformed_frame",
    );
  });
});
