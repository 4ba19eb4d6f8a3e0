// The gateway mounted into an existing Fastify app (a backend-for-frontend):
// the app keeps its own routes and body parsers, its hooks see gRPC-Web
// calls, and a third-party plugin (@fastify/rate-limit) limits them, with
// its refusal answered as a gRPC-Web status a browser client can read.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import type { RunningUpstream } from "@grpc-edge/example-upstream";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { validateConfig } from "../src/config/config.ts";
import { GRPC_WEB_ALLOWED_HEADERS, GRPC_WEB_EXPOSED_HEADERS } from "../src/edge/cors.ts";
import { grpcWebGateway } from "../src/edge/plugin.ts";
import { postGrpcWeb } from "./support/http.ts";
import { grpcFrame } from "./support/raw-upstream.ts";
import { gatewayConfig, startUpstream, type TestPki, testPki } from "./support/stack.ts";

const ORIGIN = "http://localhost:5173";
const ECHO = "/demo.notes.v1.NotesService/Echo";
const LIMIT = 3;

/** Registers the gateway for one upstream, listens on 127.0.0.1:0; resolves with the URL. */
async function mountAndListen(app: FastifyInstance, pki: TestPki, upstreamUrl: string) {
  await app.register(
    grpcWebGateway,
    validateConfig(gatewayConfig(pki, upstreamUrl), process.cwd()),
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
}

describe("grpcWebGateway plugin in an existing Fastify app", () => {
  let upstream: RunningUpstream;
  let app: FastifyInstance;
  let url: string;
  const seenByHook: string[] = [];
  const logLines: Array<Record<string, unknown>> = [];

  before(async () => {
    const pki = await testPki();
    upstream = await startUpstream("connect-node", pki);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n"))
          if (line !== "") logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    app = Fastify({ loggerInstance: pino({ level: "info" }, sink) }) as unknown as FastifyInstance;
    // The app's own hook: it sees every request, and refuses callers it does not know.
    app.addHook("onRequest", async (request) => {
      seenByHook.push(request.url);
      if (request.headers["x-app-log"] !== undefined) request.log.info("seen by the app");
      if (request.headers["x-app-user"] === "blocked") {
        throw Object.assign(new Error("blocked by the app"), { statusCode: 403 });
      }
    });
    // Counted per x-client header, so each test has its own budget.
    await app.register(rateLimit, {
      max: LIMIT,
      timeWindow: 60_000,
      keyGenerator: (request) => String(request.headers["x-client"] ?? request.ip),
    });
    app.get("/api/hello", async () => ({ hello: "world" }));
    app.post("/api/echo", async (request) => ({ got: request.body }));
    url = await mountAndListen(app, pki, upstream.url);
  });
  after(async () => {
    await app.close();
    await upstream.close();
  });

  const client = (clientId: string) =>
    createClient(
      NotesService,
      createGrpcWebTransport({
        baseUrl: url,
        interceptors: [
          (next) => (req) => {
            req.header.set("x-client", clientId);
            return next(req);
          },
        ],
      }),
    );

  it("serves calls next to the app's own routes and JSON body parser", async () => {
    const reply = await client("routes").echo({ payload: new Uint8Array([1, 2]) });
    assert.deepEqual([...reply.payload], [1, 2]);
    const hello = await fetch(`${url}/api/hello`, { headers: { "x-client": "routes" } });
    assert.deepEqual(await hello.json(), { hello: "world" });
    const echoed = await fetch(`${url}/api/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-client": "routes-json" },
      body: JSON.stringify({ a: 1 }),
    });
    assert.deepEqual(await echoed.json(), { got: { a: 1 } });
    assert.equal(app.grpcWebGateway.activeCalls(), 0);
  });

  it("runs the app's onRequest hook for calls, and turns its refusal into a gRPC status", async () => {
    const before = seenByHook.length;
    await client("hook").echo({ payload: new Uint8Array([3]) });
    assert.ok(seenByHook.slice(before).includes(ECHO));
    // request.log in the app's hook is the request's child logger, request id bound.
    await postGrpcWeb(url, ECHO, grpcFrame(new Uint8Array(0)), {
      "x-app-log": "1",
      "x-client": "hook",
    });
    const appLine = logLines.find((l) => l.msg === "seen by the app");
    const callLine = logLines.findLast((l) => l.msg === "call");
    assert.ok(appLine?.reqId !== undefined && appLine.reqId === callLine?.reqId);
    const res = await postGrpcWeb(url, ECHO, grpcFrame(new Uint8Array(0)), {
      origin: ORIGIN,
      "x-app-user": "blocked",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers["grpc-status"], String(Code.PermissionDenied));
    assert.equal(res.headers["grpc-edge-reason"], "refused_by_hook");
  });

  it("answers a rate-limited call as 8 RESOURCE_EXHAUSTED, readable by the browser", async () => {
    const limited = client("limited");
    for (let i = 0; i < LIMIT; i++) await limited.echo({ payload: new Uint8Array([i]) });
    await assert.rejects(
      limited.echo({ payload: new Uint8Array([9]) }),
      (e: unknown) => e instanceof ConnectError && e.code === Code.ResourceExhausted,
    );
    // On the wire: a gRPC-Web response with CORS headers and the limit's headers, not a 429 page.
    const res = await postGrpcWeb(url, ECHO, grpcFrame(new Uint8Array(0)), {
      origin: ORIGIN,
      "x-client": "limited",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/grpc-web+proto");
    assert.equal(res.headers["grpc-status"], String(Code.ResourceExhausted));
    assert.equal(res.headers["grpc-edge-reason"], "rate_limited");
    assert.equal(res.headers["access-control-allow-origin"], ORIGIN);
    assert.ok(Number(res.headers["retry-after"]) > 0);
    const metrics = await app.grpcWebGateway.metrics.metrics();
    assert.match(
      metrics,
      /grpc_edge_calls_total\{service="demo.notes.v1.NotesService",method="Echo",grpc_code="resource_exhausted",reason="rate_limited"\} 2/,
    );
  });
});

describe("grpcWebGateway in an app that runs @fastify/cors itself", () => {
  let upstream: RunningUpstream;
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    const pki = await testPki();
    upstream = await startUpstream("connect-node", pki);
    app = Fastify() as unknown as FastifyInstance; // and no logger
    // The app's own CORS policy, with the gRPC-Web header lists the gateway exports.
    await app.register(cors, {
      origin: [ORIGIN],
      allowedHeaders: [...GRPC_WEB_ALLOWED_HEADERS],
      exposedHeaders: [...GRPC_WEB_EXPOSED_HEADERS],
    });
    url = await mountAndListen(app, pki, upstream.url);
  });
  after(async () => {
    await app.close();
    await upstream.close();
  });

  it("answers preflights and calls with the app's CORS policy", async () => {
    const preflight = await fetch(`${url}${ECHO}`, {
      method: "OPTIONS",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-grpc-web, authorization",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), ORIGIN);
    assert.ok((preflight.headers.get("access-control-allow-headers") ?? "").includes("x-grpc-web"));
    const res = await postGrpcWeb(url, ECHO, grpcFrame(new Uint8Array(0)), { origin: ORIGIN });
    assert.equal(res.status, 200);
    assert.equal(res.headers["access-control-allow-origin"], ORIGIN);
    assert.ok((res.headers["access-control-expose-headers"] ?? "").includes("grpc-status"));
  });
});
