// The interceptor against an in-memory connect server: what the service
// receives, the single retry after 16, and where tokens are never sent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type HandlerContext,
} from "@connectrpc/connect";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { type AccessTokenSource, createAuthInterceptor } from "./auth-interceptor.ts";
import { gatewayReason, requiredScopes } from "./gateway-error.ts";
import { LoginRequiredError } from "./login-required-error.ts";

const base = "https://in-memory";

/** Tokens at-0, at-1, ...; replaceAccessToken moves on only if the rejected one is current. */
function tokens() {
  const state = { serial: 0, replaced: [] as string[] };
  const source: AccessTokenSource = {
    getAccessToken: async () => `at-${state.serial}`,
    async replaceAccessToken(rejected) {
      state.replaced.push(rejected);
      if (rejected === `at-${state.serial}`) state.serial++;
      return `at-${state.serial}`;
    },
  };
  return { state, source };
}

/** A NotesService that accepts only the tokens in `accepted`, recording what it received. */
function server(accepted: (token: string) => boolean) {
  const seen: string[] = [];
  const check = (ctx: HandlerContext) => {
    const header = ctx.requestHeader.get("authorization") ?? "";
    seen.push(header);
    if (!accepted(header.replace(/^Bearer /, ""))) {
      throw new ConnectError("token_expired: refresh the token", Code.Unauthenticated, {
        "grpc-edge-reason": "token_expired",
      });
    }
  };
  const routes = (router: import("@connectrpc/connect").ConnectRouter) =>
    router.service(NotesService, {
      async getNote(_req, ctx) {
        check(ctx);
        return { note: { id: "1", text: "hello" } };
      },
      async *watchNotes(req, ctx) {
        check(ctx);
        for (let i = 1; i <= req.maxEvents; i++) yield { sequence: BigInt(i) };
      },
      async *listNotes(_req, ctx) {
        check(ctx);
        yield { note: { id: "1", text: "first" } };
        throw new ConnectError("token_expired: mid-stream", Code.Unauthenticated);
      },
    });
  return { seen, routes };
}

function client(
  source: AccessTokenSource,
  routes: ReturnType<typeof server>["routes"],
  baseUrl = base,
) {
  const interceptors = [createAuthInterceptor(source, { baseUrl })];
  return createClient(NotesService, createRouterTransport(routes, { transport: { interceptors } }));
}

describe("auth interceptor", () => {
  it("sends authorization: Bearer <token> (lowercase) on unary and streaming calls", async () => {
    const { source } = tokens();
    const { seen, routes } = server(() => true);
    const notes = client(source, routes);
    await notes.getNote({ id: "1" });
    const events = [];
    for await (const e of notes.watchNotes({ maxEvents: 2 })) events.push(e.sequence);
    assert.deepEqual(events, [1n, 2n]);
    assert.deepEqual(seen, ["Bearer at-0", "Bearer at-0"]);
  });

  it("after 16 on a unary call, retries once with a replaced token", async () => {
    const { state, source } = tokens();
    const { seen, routes } = server((t) => t !== "at-0");
    const res = await client(source, routes).getNote({ id: "1" });
    assert.equal(res.note?.text, "hello");
    assert.deepEqual(seen, ["Bearer at-0", "Bearer at-1"]);
    assert.deepEqual(state.replaced, ["at-0"]);
  });

  it("never loops: a second 16 reaches the caller with the gateway's reason", async () => {
    const { state, source } = tokens();
    const { seen, routes } = server(() => false);
    const err = await client(source, routes)
      .getNote({ id: "1" })
      .then(() => assert.fail("expected 16"), ConnectError.from);
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(gatewayReason(err), "token_expired");
    assert.equal(seen.length, 2);
    assert.deepEqual(state.replaced, ["at-0"]);
  });

  it("retries a server stream refused before its first message, with the request message replayed", async () => {
    const { source } = tokens();
    const { seen, routes } = server((t) => t !== "at-0");
    const events = [];
    for await (const e of client(source, routes).watchNotes({ maxEvents: 3 }))
      events.push(e.sequence);
    assert.deepEqual(events, [1n, 2n, 3n]);
    assert.deepEqual(seen, ["Bearer at-0", "Bearer at-1"]);
  });

  it("does not retry a stream that fails after a message was delivered", async () => {
    const { state, source } = tokens();
    const { seen, routes } = server(() => true);
    const received: string[] = [];
    await assert.rejects(
      async () => {
        for await (const r of client(source, routes).listNotes({}))
          received.push(r.note?.text ?? "");
      },
      { code: Code.Unauthenticated },
    );
    assert.deepEqual(received, ["first"]);
    assert.equal(seen.length, 1);
    assert.deepEqual(state.replaced, []);
  });

  it("a call without a session rejects with LoginRequiredError itself, and nothing is sent", async () => {
    const { seen, routes } = server(() => true);
    const source: AccessTokenSource = {
      getAccessToken: () => Promise.reject(new LoginRequiredError("invalid_grant")),
    };
    const err = await client(source, routes)
      .getNote({ id: "1" })
      .then(
        () => assert.fail("expected a rejection"),
        (e: unknown) => e,
      );
    assert.ok(err instanceof LoginRequiredError);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.name, "LoginRequiredError");
    assert.equal(err.reason, "invalid_grant");
    assert.equal(err.code, Code.Unauthenticated);
    assert.deepEqual(seen, []);
  });

  it("never attaches a token to an origin other than the gateway's", async () => {
    const { source } = tokens();
    const { seen, routes } = server(() => true);
    const err = await client(source, routes, "https://gateway.example.com")
      .getNote({ id: "1" })
      .then(() => assert.fail("expected a refusal"), ConnectError.from);
    assert.equal(err.code, Code.FailedPrecondition);
    assert.match(err.rawMessage, /in-memory/);
    assert.deepEqual(seen, []);
  });

  it("refuses plain-http base URLs except loopback hosts", () => {
    const { source } = tokens();
    for (const url of ["http://gateway.example.com", "http://10.0.0.5:8080", "ftp://127.0.0.1"]) {
      assert.throws(() => createAuthInterceptor(source, { baseUrl: url }), TypeError, url);
    }
    for (const url of [
      "https://gateway.example.com",
      "http://localhost:8080",
      "http://127.0.0.1:8080",
      "http://[::1]:8080",
    ]) {
      createAuthInterceptor(source, { baseUrl: url });
    }
  });
});

describe("gateway error helpers", () => {
  it("read the reason and the missing scopes from a refused call", () => {
    const err = new ConnectError(
      "insufficient_scope: the token lacks a required scope",
      Code.PermissionDenied,
      {
        "grpc-edge-reason": "insufficient_scope",
        "www-authenticate":
          'Bearer realm="grpc-edge", error="insufficient_scope", scope="notes:delete notes:admin"',
      },
    );
    assert.equal(gatewayReason(err), "insufficient_scope");
    assert.deepEqual(requiredScopes(err), ["notes:delete", "notes:admin"]);
  });

  it("fall back to the grpc-message prefix, and say nothing of other errors", () => {
    assert.equal(
      gatewayReason(new ConnectError("unknown_service: no upstream", Code.Unimplemented)),
      "unknown_service",
    );
    assert.equal(gatewayReason(new ConnectError("note 7 not found", Code.NotFound)), undefined);
    assert.equal(gatewayReason(new Error("x")), undefined);
    assert.deepEqual(requiredScopes(new ConnectError("x", Code.PermissionDenied)), []);
  });
});

describe("auth interceptor with DPoP", () => {
  /** A source whose "proofs" spell out what they were made for. */
  function dpopSource(bound = true) {
    const { state, source } = tokens();
    const proofs: string[] = [];
    const dpop: AccessTokenSource = {
      ...source,
      async dpopProof({ url, method, accessToken, nonce }) {
        if (!bound) return undefined;
        const proof = `proof(${method} ${url} ${accessToken} ${nonce ?? "-"})`;
        proofs.push(proof);
        return proof;
      },
    };
    return { state, proofs, source: dpop };
  }

  /** A gateway that wants a nonce it hands out on the first refusal. */
  function nonceServer(nonces: string[]) {
    const seen: Array<{ authorization: string; dpop: string }> = [];
    const routes = (router: import("@connectrpc/connect").ConnectRouter) =>
      router.service(NotesService, {
        async getNote(_req, ctx) {
          const dpop = ctx.requestHeader.get("dpop") ?? "";
          seen.push({ authorization: ctx.requestHeader.get("authorization") ?? "", dpop });
          const current = nonces[0] as string;
          if (!dpop.includes(` ${current})`)) {
            if (nonces.length > 1) nonces.shift();
            throw new ConnectError("dpop nonce required", Code.Unauthenticated, {
              "www-authenticate": 'DPoP error="use_dpop_nonce", error_description="nonce required"',
              "dpop-nonce": current,
            });
          }
          ctx.responseHeader.set("dpop-nonce", current);
          return { note: { id: "1", text: "hello" } };
        },
      });
    return { seen, routes };
  }

  it("sends authorization: DPoP with a proof for the call's URL and method, then the nonce the gateway asks for (once)", async () => {
    const { state, proofs, source } = dpopSource();
    const { seen, routes } = nonceServer(["n1"]);
    const notes = client(source, routes);
    await notes.getNote({ id: "1" });
    const url = `${base}/demo.notes.v1.NotesService/GetNote`;
    assert.deepEqual(seen, [
      { authorization: "DPoP at-0", dpop: `proof(POST ${url} at-0 -)` },
      { authorization: "DPoP at-0", dpop: `proof(POST ${url} at-0 n1)` },
    ]);
    assert.deepEqual(state.replaced, [], "a nonce challenge does not refresh the token");
    await notes.getNote({ id: "1" });
    assert.equal(seen.length, 3, "the nonce is kept for the next call to that gateway");
    assert.equal(proofs.length, 3);
  });

  it("never loops on nonce challenges", async () => {
    const { source } = dpopSource();
    const { seen, routes } = nonceServer(["n1", "n2", "n3"]);
    const err = await client(source, routes)
      .getNote({ id: "1" })
      .then(() => assert.fail("expected 16"), ConnectError.from);
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(seen.length, 2);
  });

  it("sends Bearer and no dpop header for a token that is not DPoP-bound", async () => {
    const { source } = dpopSource(false);
    const { seen, routes } = server(() => true);
    await client(source, routes).getNote({ id: "1" });
    assert.deepEqual(seen, ["Bearer at-0"]);
  });
});
