import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { acceptsTextOnly, isGrpcContentType, parseWebContentType } from "./content-type.ts";

describe("parseWebContentType", () => {
  it("maps every gRPC-Web type to its gRPC type", () => {
    const cases = {
      "application/grpc-web": ["application/grpc", false],
      "application/grpc-web+proto": ["application/grpc+proto", false],
      "application/grpc-web+json": ["application/grpc+json", false],
      "application/grpc-web-text": ["application/grpc", true],
      "application/grpc-web-text+proto": ["application/grpc+proto", true],
    } as const;
    for (const [type, [upstream, text]] of Object.entries(cases)) {
      const p = parseWebContentType(type);
      assert.equal(p?.upstreamContentType, upstream, type);
      assert.equal(p?.text, text, type);
    }
  });

  it("is case-insensitive and ignores parameters", () => {
    assert.equal(
      parseWebContentType("Application/GRPC-Web+Proto; charset=utf-8")?.upstreamContentType,
      "application/grpc+proto",
    );
  });

  it("refuses what is not gRPC-Web", () => {
    for (const t of [
      undefined,
      "application/json",
      "application/grpc",
      "application/grpc-webx",
      "text/plain",
    ]) {
      assert.equal(parseWebContentType(t), undefined, String(t));
    }
  });
});

describe("isGrpcContentType / acceptsTextOnly", () => {
  it("recognises upstream gRPC content types", () => {
    assert.equal(isGrpcContentType("application/grpc"), true);
    assert.equal(isGrpcContentType("application/grpc+proto"), true);
    assert.equal(isGrpcContentType("application/grpc-web"), false);
    assert.equal(isGrpcContentType("text/html"), false);
  });
  it("reads an accept header asking for text", () => {
    assert.equal(acceptsTextOnly("application/grpc-web-text"), true);
    assert.equal(acceptsTextOnly("application/grpc-web, application/grpc-web-text"), false);
    assert.equal(acceptsTextOnly(undefined), false);
  });
});
