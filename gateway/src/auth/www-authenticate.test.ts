import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bearerChallenge,
  insufficientScopeError,
  invalidTokenError,
  missingTokenError,
} from "./www-authenticate.ts";

describe("www-authenticate (RFC 6750 §3)", () => {
  it("missing token: realm only", () => {
    assert.equal(bearerChallenge(), 'Bearer realm="grpc-edge"');
    const err = missingTokenError("m");
    assert.equal(err.reason, "missing_token");
    assert.equal(err.code, 16);
    assert.equal(err.headers["www-authenticate"], 'Bearer realm="grpc-edge"');
  });

  it("invalid token: error and the reason as error_description", () => {
    const err = invalidTokenError("token_expired", "m");
    assert.equal(err.code, 16);
    assert.equal(
      err.headers["www-authenticate"],
      'Bearer realm="grpc-edge", error="invalid_token", error_description="token_expired"',
    );
  });

  it("insufficient scope: 7 with the required scopes", () => {
    const err = insufficientScopeError(["notes:admin", "notes:write"], ["notes:admin"]);
    assert.equal(err.reason, "insufficient_scope");
    assert.equal(err.code, 7);
    assert.equal(
      err.headers["www-authenticate"],
      'Bearer realm="grpc-edge", error="insufficient_scope", scope="notes:admin notes:write"',
    );
  });
});
