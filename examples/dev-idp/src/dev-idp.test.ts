// The dev provider as a standards client sees it (fetch, no browser): code +
// PKCE through its login form, JWT access tokens with each user's scopes,
// rotating refresh tokens that are refused when reused.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type DevIdp, startDevIdp } from "./dev-idp.ts";

const clientId = "notes-web";
const redirectUri = "http://localhost:5999/callback";
const b64url = (b: Buffer) => b.toString("base64url");

/** Follows the provider's redirects by hand, keeping its cookies, until the redirect URI. */
async function authorize(idp: DevIdp, username: string, password: string, scope: string) {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const cookies = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: {
        ...(init.headers ?? {}),
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const [k = "", v = ""] = pair.split("=");
      cookies.set(k, v);
    }
    return res;
  };
  const auth = new URL(`${idp.issuer}/auth`);
  for (const [k, v] of Object.entries({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope,
    state: "s1",
    nonce: "n1",
    code_challenge: challenge,
    code_challenge_method: "S256",
    resource: idp.resource,
  })) {
    auth.searchParams.set(k, v);
  }
  let res = await send(auth.href);
  let loginStatus = 0;
  for (let hops = 0; hops < 10; hops++) {
    const location = res.headers.get("location");
    if (location?.startsWith(redirectUri)) {
      const back = new URL(location);
      return {
        code: back.searchParams.get("code"),
        state: back.searchParams.get("state"),
        verifier,
        loginStatus,
      };
    }
    if (location) {
      res = await send(new URL(location, idp.issuer).href);
      continue;
    }
    const page = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
    assert.ok(action, `expected the login form, got ${res.status}: ${page.slice(0, 200)}`);
    res = await send(new URL(action, idp.issuer).href, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username, password }).toString(),
    });
    loginStatus = res.status;
    if (res.status === 401) return { code: null, state: null, verifier, loginStatus };
  }
  throw new Error("too many redirects");
}

async function token(idp: DevIdp, params: Record<string, string>) {
  const res = await fetch(`${idp.issuer}/token`, {
    method: "POST",
    body: new URLSearchParams({ client_id: clientId, ...params }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

function claims(jwt: string) {
  const [header = "", payload = ""] = jwt.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString()),
    payload: JSON.parse(Buffer.from(payload, "base64url").toString()),
  };
}

describe("dev IdP", () => {
  let idp: DevIdp;
  before(async () => {
    idp = await startDevIdp({
      clients: [{ clientId, redirectUris: [redirectUri] }],
      accessTokenTtlSeconds: 30,
    });
  });
  after(() => idp?.close());

  it("logs a user in with code + PKCE and issues a JWT access token for the API with that user's scopes", async () => {
    const scope = "openid offline_access notes:read notes:write notes:delete";
    const alice = await authorize(idp, "alice", "alice", scope);
    assert.equal(alice.state, "s1");
    assert.ok(alice.code);
    const res = await token(idp, {
      grant_type: "authorization_code",
      code: alice.code,
      code_verifier: alice.verifier,
      redirect_uri: redirectUri,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const at = claims(res.body.access_token ?? "");
    assert.equal(at.header.typ, "at+jwt");
    assert.equal(at.header.alg, "ES256");
    assert.equal(at.payload.iss, idp.issuer);
    assert.equal(at.payload.aud, "api://notes");
    assert.equal(at.payload.sub, "alice");
    assert.equal(at.payload.client_id, clientId);
    assert.equal(at.payload.exp - at.payload.iat, 30);
    assert.deepEqual(at.payload.scope.split(" ").sort(), [
      "notes:delete",
      "notes:read",
      "notes:write",
    ]);
    assert.ok(res.body.refresh_token);

    const bob = await authorize(idp, "bob", "bob", scope);
    const bobTokens = await token(idp, {
      grant_type: "authorization_code",
      code: bob.code ?? "",
      code_verifier: bob.verifier,
      redirect_uri: redirectUri,
    });
    const bobScopes = claims(bobTokens.body.access_token ?? "")
      .payload.scope.split(" ")
      .sort();
    assert.deepEqual(bobScopes, ["notes:read", "notes:write"], "a scope bob lacks is left out");
  });

  it("rotates refresh tokens and refuses one that was already redeemed", async () => {
    const login = await authorize(idp, "bob", "bob", "openid offline_access notes:read");
    const first = await token(idp, {
      grant_type: "authorization_code",
      code: login.code ?? "",
      code_verifier: login.verifier,
      redirect_uri: redirectUri,
    });
    const rt0 = first.body.refresh_token ?? "";
    const second = await token(idp, { grant_type: "refresh_token", refresh_token: rt0 });
    assert.equal(second.status, 200);
    assert.notEqual(second.body.refresh_token, rt0, "a new refresh token each time");
    const reused = await token(idp, { grant_type: "refresh_token", refresh_token: rt0 });
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error, "invalid_grant");
    assert.ok((idp.stats.refused["refresh_token:invalid_grant"] ?? 0) >= 1);
    assert.ok((idp.stats.issued.refresh_token ?? 0) >= 1);
  });

  it("refuses a wrong password on its login page, and a code exchange without the PKCE verifier", async () => {
    const wrong = await authorize(idp, "alice", "not-her-password", "openid");
    assert.equal(wrong.loginStatus, 401);
    assert.equal(wrong.code, null);
    const login = await authorize(idp, "alice", "alice", "openid");
    const res = await token(idp, {
      grant_type: "authorization_code",
      code: login.code ?? "",
      redirect_uri: redirectUri,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, "invalid_grant");
  });
});
