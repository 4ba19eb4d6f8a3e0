/**
 * Shared pieces of the auth integration tests: an injected clock, a logger
 * whose output the tests can search (for leaked tokens), call shapes, and
 * tokens crafted with jose for the attacks (real JWTs, never typed by hand).
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { type CryptoKey, type JWTHeaderParameters, type JWTPayload, SignJWT } from "jose";
import pino, { type Logger } from "pino";
import { type AuthConfig, parseAuthConfig } from "../../src/auth/auth-config.ts";
import {
  type AuthStep,
  type CallInfo,
  createAuthStep,
  type Metadata,
} from "../../src/auth/auth-step.ts";
import { GatewayError } from "../../src/errors.ts";
import { loadDescriptorSet } from "../../src/routing/descriptor-set.ts";
import type { TestOidcProvider } from "../support/oidc-provider.ts";

export const NOTES = "demo.notes.v1.NotesService";
export const HEALTH = "grpc.health.v1.Health";

export interface Clock {
  readonly now: () => number;
  advance(ms: number): void;
}

export function testClock(start = Date.now()): Clock {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

export interface CapturedLog {
  readonly log: Logger;
  readonly text: () => string;
}

/** A pino logger at debug level writing to memory. */
export function captureLog(): CapturedLog {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: "debug" }, sink), text: () => chunks.join("") };
}

export function call(path: string, authorization?: string): CallInfo {
  const [, service = "", method = ""] = path.split("/");
  return { path, service, method, headers: authorization === undefined ? {} : { authorization } };
}

export const bearer = (token: string) => `Bearer ${token}`;

/** authorize() as a promise: a decision thrown at once becomes a rejection. */
export function check(step: AuthStep, info: CallInfo, connection?: object): Promise<Metadata> {
  return new Promise((resolve) => resolve(step.authorize(info, connection)));
}

/**
 * How authorize() answered: with the metadata at once (the gateway relays
 * without waiting), "pending" when the token must be verified first, or
 * the error it threw at once.
 */
export function answerOf(
  step: AuthStep,
  info: CallInfo,
  connection?: object,
): Metadata | "pending" | GatewayError {
  try {
    const answer = step.authorize(info, connection);
    if (!(answer instanceof Promise)) return answer;
    answer.catch(() => {}); // the verification's own outcome is not the question here
    return "pending";
  } catch (err) {
    assert.ok(err instanceof GatewayError, String(err));
    return err;
  }
}

/** The GatewayError a promise rejects with. */
export async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to be rejected");
}

/** The README's example rules, for one or more test IdPs. */
export function authConfigFor(
  idps: readonly TestOidcProvider[],
  extra: Record<string, unknown> = {},
): AuthConfig {
  const { descriptorSet, issuers, ...rest } = extra;
  return parseAuthConfig(
    {
      issuers:
        issuers ??
        idps.map((idp) => ({ issuer: idp.issuer, audiences: [idp.resource], tokenType: "at+jwt" })),
      defaultPolicy: "deny",
      rules: [
        { methods: [`/${HEALTH}/*`], policy: "public" },
        { methods: [`/${NOTES}/DeleteNote`], scopes: ["notes:admin"] },
        { methods: [`/${NOTES}/*`], policy: "authenticated" },
      ],
      ...rest,
    },
    typeof descriptorSet === "string" ? loadDescriptorSet(descriptorSet) : undefined,
  );
}

export interface Started {
  readonly step: AuthStep;
  readonly clock: Clock;
  readonly logs: CapturedLog;
}

export async function startStep(config: AuthConfig, clock = testClock()): Promise<Started> {
  const logs = captureLog();
  const step = await createAuthStep(config, { log: logs.log, now: clock.now });
  return { step, clock, logs };
}

/** Signs claims with one of the IdP's own private keys (for tokens the IdP would not mint). */
export function signAsIdp(
  key: { readonly kid: string; readonly alg: string; readonly privateKey: CryptoKey },
  claims: JWTPayload,
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt", ...header })
    .sign(key.privateKey);
}

/** Claims like the IdP's, valid for an hour from `nowMs`. */
export function claimsFor(
  idp: TestOidcProvider,
  nowMs: number,
  extra: JWTPayload = {},
): JWTPayload {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: idp.issuer,
    aud: idp.resource,
    sub: "alice",
    client_id: "web",
    scope: "notes:read",
    iat,
    exp: iat + 3600,
    ...extra,
  };
}
