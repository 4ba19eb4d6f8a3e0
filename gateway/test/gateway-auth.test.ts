// Authentication end to end: a real OpenID provider issues tokens, a browser
// client (connect-web) sends them, the gateway checks them and policy, and
// the real upstream sees the verified identity and nothing spoofed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { Health } from "@grpc-edge/proto/grpc/health/v1/health";
import { postGrpcWeb } from "./support/http.ts";
import { startOidcProvider, type TestOidcProvider } from "./support/oidc-provider.ts";
import { type Stack, startStack } from "./support/stack.ts";

const NOTES = "/demo.notes.v1.NotesService";

describe("gateway with auth", () => {
  let idp: TestOidcProvider;
  let stack: Stack;

  before(async () => {
    idp = await startOidcProvider({ resource: "api://notes" });
    stack = await startStack({
      impl: "connect-node",
      gateway: {
        auth: {
          issuers: [{ issuer: idp.issuer, audiences: ["api://notes"] }],
          defaultPolicy: "deny",
          rules: [
            { methods: ["/grpc.health.v1.Health/*"], policy: "public" },
            { methods: [`${NOTES}/DeleteNote`], scopes: ["notes:admin"] },
            { methods: [`${NOTES}/*`], policy: "authenticated" },
          ],
        },
      },
    });
  });
  after(async () => {
    await stack?.close();
    await idp?.close();
  });

  const bearer =
    (token: string): Interceptor =>
    (next) =>
    (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
  const notes = (token?: string) =>
    createClient(
      NotesService,
      createGrpcWebTransport({
        baseUrl: stack.gateway.url,
        interceptors: token === undefined ? [] : [bearer(token)],
      }),
    );

  it("answers 16 with www-authenticate and CORS headers when the token is missing", async () => {
    const res = await postGrpcWeb(stack.gateway.url, `${NOTES}/EchoMetadata`, new Uint8Array(5), {
      origin: "http://localhost:5173",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers["grpc-status"], "16");
    assert.equal(res.headers["grpc-edge-reason"], "missing_token");
    assert.match(res.headers["www-authenticate"] ?? "", /^Bearer realm="/);
    assert.equal(res.headers["access-control-allow-origin"], "http://localhost:5173");
    assert.match(res.headers["access-control-expose-headers"] ?? "", /www-authenticate/);
  });

  it("reports a bad token as 16 invalid_token with its reason, never echoing the token", async () => {
    const token = await idp.mintAccessToken({ scope: "notes:read", resource: "api://other" });
    await assert.rejects(notes(token).echoMetadata({}), (e: unknown) => {
      return (
        e instanceof ConnectError &&
        e.code === Code.Unauthenticated &&
        e.rawMessage.startsWith("wrong_audience:")
      );
    });
    assert.doesNotMatch(
      stack.gateway.logText(),
      new RegExp(token.slice(-20).replace(/[^\w]/g, ".")),
    );
  });

  it("forwards verified identity and drops spoofed x-auth-* headers", async () => {
    const token = await idp.mintAccessToken({ scope: "notes:read notes:write" });
    const { headers } = await notes(token).echoMetadata(
      {},
      { headers: { "x-auth-subject": "admin", "x-auth-scopes": "notes:admin" } },
    );
    assert.equal(headers["x-auth-issuer"], idp.issuer);
    assert.equal(headers["x-auth-scopes"], "notes:read notes:write");
    assert.ok(headers["x-auth-client-id"]);
    assert.notEqual(headers["x-auth-subject"], "admin");
    assert.equal(headers.authorization, undefined, "forwardAuthorization is off by default");
  });

  it("answers 7 insufficient_scope naming the scope a method requires", async () => {
    const token = await idp.mintAccessToken({ scope: "notes:read" });
    const res = await postGrpcWeb(stack.gateway.url, `${NOTES}/DeleteNote`, new Uint8Array(5), {
      authorization: `Bearer ${token}`,
    });
    assert.equal(res.headers["grpc-status"], "7");
    assert.equal(res.headers["grpc-edge-reason"], "insufficient_scope");
    assert.match(res.headers["www-authenticate"] ?? "", /error="insufficient_scope"/);
    assert.match(res.headers["www-authenticate"] ?? "", /scope="notes:admin"/);
  });

  it("answers CORS preflight without a token, even for protected methods", async () => {
    const res = await fetch(`${stack.gateway.url}${NOTES}/DeleteNote`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, x-grpc-web",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
    assert.equal(res.headers.get("grpc-status"), null);
  });

  it("lets public methods through without a token", async () => {
    const health = createClient(Health, createGrpcWebTransport({ baseUrl: stack.gateway.url }));
    const reply = await health.check({ service: "" });
    assert.equal(reply.status, 1);
  });

  it("counts auth failures by reason in /metrics", async () => {
    const res = await fetch(`${stack.gateway.url}/metrics`);
    const text = await res.text();
    assert.match(text, /grpc_edge_auth_failures_total\{reason="missing_token"\} [1-9]/);
    assert.match(text, /grpc_edge_auth_failures_total\{reason="insufficient_scope"\} [1-9]/);
    // The refused calls also count among calls, with their status and reason.
    assert.match(
      text,
      /grpc_edge_calls_total\{service="demo\.notes\.v1\.NotesService",method="[A-Za-z]+",grpc_code="unauthenticated",reason="missing_token"\} [1-9]/,
    );
    assert.match(
      text,
      /grpc_edge_calls_total\{service="demo\.notes\.v1\.NotesService",method="[A-Za-z]+",grpc_code="permission_denied",reason="insufficient_scope"\} [1-9]/,
    );
    assert.match(text, /grpc_edge_jwks_fetches_total\{issuer="[^"]+",result="ok"\} [1-9]/);
  });
});
