import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headerList, headersNotAllowed, preflightRefusal } from "./preflight.ts";

const cors = (extra: Partial<Parameters<typeof preflightRefusal>[0]> = {}) => ({
  allowedOrigins: ["https://app.example.com"],
  allowCredentials: false,
  maxAgeSeconds: 600,
  allowedHeaders: [],
  exposedHeaders: [],
  ...extra,
});
const WEB_CLIENT = ["authorization", "content-type", "grpc-timeout", "x-grpc-web", "x-user-agent"];

describe("preflight refusals", () => {
  it("allows the web client's headers from a listed origin", () => {
    assert.equal(preflightRefusal(cors(), "https://app.example.com", WEB_CLIENT), undefined);
  });

  it("names an origin that is not listed (exact match: scheme, host and port)", () => {
    for (const origin of [
      "https://evil.example.com",
      "http://app.example.com",
      "https://app.example.com:8443",
    ]) {
      assert.equal(preflightRefusal(cors(), origin, WEB_CLIENT)?.reason, "cors_origin_not_allowed");
    }
    assert.equal(
      preflightRefusal(cors({ allowedOrigins: ["*"] }), "https://any.example", []),
      undefined,
    );
  });

  it("names each header that is not allowed, and allows it once configured", () => {
    const refusal = preflightRefusal(cors(), "https://app.example.com", [
      ...WEB_CLIENT,
      "x-tenant-id",
    ]);
    assert.deepEqual(refusal, { reason: "cors_header_not_allowed", headers: ["x-tenant-id"] });
    assert.equal(
      preflightRefusal(cors({ allowedHeaders: ["x-tenant-id"] }), "https://app.example.com", [
        "x-tenant-id",
      ]),
      undefined,
    );
  });

  it("reads * as the browser does: never authorization, nothing with credentials", () => {
    assert.deepEqual(headersNotAllowed(["x-a", "authorization"], ["*"], false), ["authorization"]);
    assert.deepEqual(headersNotAllowed(["x-a"], ["*"], true), ["x-a"]);
  });

  it("parses header lists case-insensitively", () => {
    assert.deepEqual(headerList(" X-Grpc-Web ,authorization,, "), ["x-grpc-web", "authorization"]);
    assert.deepEqual(headerList(undefined), []);
  });
});
