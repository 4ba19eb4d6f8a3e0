// A refused CORS preflight is named where people can look, since the
// browser's client sees only a network error: the preflight response's
// grpc-edge-reason (the network panel), a log line and /metrics.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { type Stack, startStack } from "./support/stack.ts";

const APP = "http://localhost:5173";
const WEB_CLIENT_HEADERS = "authorization,content-type,grpc-timeout,x-grpc-web,x-user-agent";

/** Sends a preflight as a browser would; resolves with the status and headers. */
function preflight(
  url: string,
  origin: string,
  requestHeaders: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/demo.notes.v1.NotesService/GetNote`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": requestHeaders,
      },
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("refused CORS preflights", () => {
  let stack: Stack;
  const refusals = () => stack.gateway.logs.filter((l) => l.msg === "preflight refused");

  before(async () => {
    stack = await startStack({
      impl: "connect-node",
      gateway: { cors: { allowedOrigins: [APP], allowedHeaders: ["x-tenant-id"] } },
    });
  });
  after(async () => {
    await stack?.close();
  });

  it("a preflight the policy allows gets the grant and no reason", async () => {
    const res = await preflight(stack.gateway.url, APP, `${WEB_CLIENT_HEADERS},x-tenant-id`);
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], APP);
    assert.equal(res.headers["grpc-edge-reason"], undefined);
    assert.equal(refusals().length, 0);
  });

  it("an origin not in cors.allowedOrigins → no grant, cors_origin_not_allowed in header, log and metrics", async () => {
    const res = await preflight(stack.gateway.url, "http://localhost:6000", WEB_CLIENT_HEADERS);
    assert.equal(res.headers["access-control-allow-origin"], undefined);
    assert.equal(res.headers["grpc-edge-reason"], "cors_origin_not_allowed");
    assert.equal(refusals().at(-1)?.reason, "cors_origin_not_allowed");
    assert.match(
      await stack.gateway.gateway.metrics.metrics(),
      /grpc_edge_preflight_refusals_total\{reason="cors_origin_not_allowed"\} 1/,
    );
  });

  it("a header not allowed → cors_header_not_allowed naming the header; the allow list the browser reads lacks it", async () => {
    const res = await preflight(stack.gateway.url, APP, `${WEB_CLIENT_HEADERS},x-trace-tag`);
    assert.equal(res.headers["grpc-edge-reason"], "cors_header_not_allowed");
    assert.ok(!String(res.headers["access-control-allow-headers"]).includes("x-trace-tag"));
    assert.deepEqual(refusals().at(-1)?.headers, ["x-trace-tag"]);
    assert.match(
      await stack.gateway.gateway.metrics.metrics(),
      /grpc_edge_preflight_refusals_total\{reason="cors_header_not_allowed"\} 1/,
    );
  });
});
