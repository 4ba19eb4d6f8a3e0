import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildUpstreamHeaders, filterResponseHeaders } from "./header-rewrite.ts";

const base = {
  path: "/demo.notes.v1.NotesService/GetNote",
  authority: "127.0.0.1:9443",
  contentType: "application/grpc+proto",
  timeoutMs: undefined,
  identity: undefined,
  remoteAddress: "127.0.0.1",
  forwardedProto: "https",
} as const;

describe("buildUpstreamHeaders", () => {
  it("sets the gRPC transport headers", () => {
    const h = buildUpstreamHeaders(
      { "content-type": "application/grpc-web+proto", "content-length": "12" },
      base,
    );
    assert.equal(h["content-type"], "application/grpc+proto");
    assert.equal(h.te, "trailers");
    assert.equal(h["grpc-accept-encoding"], "identity");
    assert.equal(h["content-length"], undefined);
    assert.equal(h[":path"], base.path);
  });

  it("drops spoofed identity, hop-by-hop and gRPC-Web-only headers", () => {
    const h = buildUpstreamHeaders(
      {
        "x-auth-subject": "admin",
        "x-auth-scopes": "notes:admin",
        authorization: "Bearer abc",
        cookie: "session=1",
        connection: "keep-alive, x-hop",
        "x-hop": "1",
        "x-grpc-web": "1",
        "x-user-agent": "grpc-web-javascript/0.1",
        "x-forwarded-for": "6.6.6.6",
        "sec-fetch-mode": "cors",
        "x-custom": "kept",
      },
      base,
    );
    for (const name of [
      "x-auth-subject",
      "x-auth-scopes",
      "authorization",
      "cookie",
      "x-hop",
      "x-grpc-web",
      "x-user-agent",
      "sec-fetch-mode",
    ]) {
      assert.equal(h[name], undefined, name);
    }
    assert.equal(h["x-forwarded-for"], "127.0.0.1");
    assert.equal(h["x-custom"], "kept");
  });

  it("adds verified identity and the capped timeout", () => {
    const h = buildUpstreamHeaders(
      { "grpc-timeout": "99H" },
      { ...base, timeoutMs: 1500, identity: { "x-auth-subject": "alice" } },
    );
    assert.equal(h["x-auth-subject"], "alice");
    assert.equal(h["grpc-timeout"], "1500000u");
  });
});

describe("filterResponseHeaders", () => {
  it("keeps metadata and drops framing headers", () => {
    const h = filterResponseHeaders({
      ":status": "200",
      "content-type": "application/grpc",
      "content-length": "5",
      "x-meta": "v",
      date: "x",
    });
    assert.deepEqual(h, { "x-meta": "v" });
  });
});
