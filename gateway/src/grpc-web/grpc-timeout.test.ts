import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../errors.ts";
import { formatGrpcTimeout, parseGrpcTimeout } from "./grpc-timeout.ts";

describe("grpc-timeout", () => {
  it("parses every unit", () => {
    assert.equal(parseGrpcTimeout("1H"), 3_600_000);
    assert.equal(parseGrpcTimeout("2M"), 120_000);
    assert.equal(parseGrpcTimeout("3S"), 3000);
    assert.equal(parseGrpcTimeout("40m"), 40);
    assert.equal(parseGrpcTimeout("5000u"), 5);
    assert.equal(parseGrpcTimeout("7000000n"), 7);
    assert.equal(parseGrpcTimeout(undefined), undefined);
  });
  it("rejects malformed values (9 digits, no unit, bad unit)", () => {
    for (const bad of ["123456789S", "10", "10s", "", "-1S", "1.5S"]) {
      assert.throws(
        () => parseGrpcTimeout(bad),
        (e: unknown) => e instanceof GatewayError && e.reason === "invalid_timeout",
        bad,
      );
    }
  });
  it("formats within 8 digits and round-trips", () => {
    for (const ms of [0, 1, 999, 99_999, 300_000, 86_400_000, 10 ** 12]) {
      const value = formatGrpcTimeout(ms);
      assert.match(value, /^\d{1,8}[HMSmun]$/);
      assert.ok((parseGrpcTimeout(value) as number) >= ms);
    }
  });
});
