import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../errors.ts";
import { parseAuthorization } from "./authorization-header.ts";
import { DPOP_OFF } from "./dpop-config.ts";

/** The Bearer token, with DPoP off. */
const extractBearerToken = (header: string | readonly string[] | undefined, max: number) =>
  parseAuthorization(header, max, DPOP_OFF).token;

const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

function failure(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    return err;
  }
  assert.fail("expected a GatewayError");
}

describe("parseAuthorization (DPoP off)", () => {
  it("returns the token; the scheme is case-insensitive and surrounding spaces are ignored", () => {
    assert.equal(extractBearerToken(`Bearer ${JWT}`, 8192), JWT);
    assert.equal(extractBearerToken(`bEaReR   ${JWT}  `, 8192), JWT);
    assert.equal(extractBearerToken([`Bearer ${JWT}`], 8192), JWT);
  });

  it("no header: missing_token, challenge without an error attribute (RFC 6750 §3.1)", () => {
    for (const header of [undefined, "", "   ", []]) {
      const err = failure(() => extractBearerToken(header, 8192));
      assert.equal(err.reason, "missing_token");
      assert.equal(err.code, 16);
      assert.equal(err.headers["www-authenticate"], 'Bearer realm="grpc-edge"');
    }
  });

  it("another scheme (Basic) is treated as no bearer token", () => {
    const err = failure(() => extractBearerToken("Basic dXNlcjpwYXNz", 8192));
    assert.equal(err.reason, "missing_token");
    assert.equal(err.headers["www-authenticate"], 'Bearer realm="grpc-edge"');
  });

  it("Bearer without a token, two tokens, or two headers: malformed_token, invalid_request", () => {
    for (const header of [
      "Bearer",
      "Bearer   ",
      `Bearer ${JWT} ${JWT}`,
      [`Bearer ${JWT}`, `Bearer ${JWT}`],
    ]) {
      const err = failure(() => extractBearerToken(header, 8192));
      assert.equal(err.reason, "malformed_token");
      assert.equal(
        err.headers["www-authenticate"],
        'Bearer realm="grpc-edge", error="invalid_request", error_description="malformed_token"',
      );
    }
  });

  it("characters a token68 cannot have: malformed_token, invalid_token", () => {
    const err = failure(() => extractBearerToken('Bearer a"b', 8192));
    assert.equal(err.reason, "malformed_token");
    assert.match(err.headers["www-authenticate"] ?? "", /error="invalid_token"/);
  });

  it("a token over maxTokenBytes: token_too_large, and the token is not in the message", () => {
    const big = `${JWT}${"A".repeat(300)}`;
    const err = failure(() => extractBearerToken(`Bearer ${big}`, 256));
    assert.equal(err.reason, "token_too_large");
    assert.equal(err.code, 16);
    assert.ok(!err.message.includes(big.slice(0, 20)));
    assert.equal(extractBearerToken(`Bearer ${"A".repeat(256)}`, 256).length, 256);
  });
});
