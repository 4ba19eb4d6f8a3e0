/**
 * Per-method policy and scopes, end to end through the auth step with a
 * real oidc-provider and a real descriptor set built by buf from this
 * repository's protos.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseAuthConfig } from "../../src/auth/auth-config.ts";
import { loadDescriptorSet } from "../../src/routing/descriptor-set.ts";
import { configErrorKey } from "../support/config-error.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import {
  authConfigFor,
  bearer,
  call,
  check,
  HEALTH,
  NOTES,
  rejection,
  startStep,
} from "./harness.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "auth-policy-"));
const image = join(dir, "image.binpb");
let idp: TestOidcProvider;

before(async () => {
  execFileSync("npx", ["buf", "build", "-o", image], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "inherit"],
  });
  idp = await startOidcProvider();
});
after(async () => {
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("policy", () => {
  it("a public method needs no token, and a bad token there is not even parsed", async () => {
    const { step } = await startStep(authConfigFor([idp]));
    try {
      assert.deepEqual(await check(step, call(`/${HEALTH}/Check`)), {});
      assert.deepEqual(await check(step, call(`/${HEALTH}/Check`, "Bearer not-a-jwt")), {});
      assert.equal(step.stats().verifications, 0);
    } finally {
      step.close();
    }
  });

  it("a method no rule matches is denied_by_policy (7), token or not", async () => {
    const { step } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read notes:admin" });
      for (const header of [undefined, bearer(token)]) {
        const err = await rejection(check(step, call("/other.v1.Other/Call", header)));
        assert.equal(err.reason, "denied_by_policy");
        assert.equal(err.code, 7);
      }
    } finally {
      step.close();
    }
  });

  it("a missing scope → insufficient_scope (7) with the required scopes in www-authenticate", async () => {
    const { step } = await startStep(authConfigFor([idp]));
    try {
      const token = await idp.mintAccessToken({ scope: "notes:read" });
      const err = await rejection(check(step, call(`/${NOTES}/DeleteNote`, bearer(token))));
      assert.equal(err.reason, "insufficient_scope");
      assert.equal(err.code, 7);
      assert.equal(
        err.headers["www-authenticate"],
        'Bearer realm="grpc-edge", error="insufficient_scope", scope="notes:admin"',
      );
      const admin = await idp.mintAccessToken({ scope: "notes:admin" });
      assert.equal(
        (await check(step, call(`/${NOTES}/DeleteNote`, bearer(admin))))["x-auth-scopes"],
        "notes:admin",
      );
    } finally {
      step.close();
    }
  });

  it("a rule typo fails start-up when a descriptor set is configured (real buf image)", async () => {
    const index = loadDescriptorSet(image);
    assert.ok(index.hasMethod(`/${NOTES}/DeleteNote`));
    assert.ok(index.hasService(HEALTH));
    await startStep(authConfigFor([idp], { descriptorSet: image })).then(({ step }) =>
      step.close(),
    );
    for (const [methods, key] of [
      [[`/${NOTES}/DeleteNotes`], "auth.rules[3].methods[0]"],
      [["/demo.notes.v1.NoteService/*"], "auth.rules[3].methods[0]"],
    ] as const) {
      const rules = [
        { methods: [`/${HEALTH}/*`], policy: "public" },
        { methods: [`/${NOTES}/DeleteNote`], scopes: ["notes:admin"] },
        { methods: [`/${NOTES}/*`], policy: "authenticated" },
        { methods, policy: "public" },
      ];
      const issuers = [{ issuer: idp.issuer, audiences: [idp.resource] }];
      assert.equal(
        configErrorKey(() => parseAuthConfig({ issuers, rules }, index)),
        key,
      );
    }
  });

  it("a duplicate rule entry and a malformed method path fail start-up naming the key", () => {
    const issuers = [{ issuer: idp.issuer, audiences: [idp.resource] }];
    const dup = {
      issuers,
      rules: [
        { methods: [`/${NOTES}/*`], policy: "public" },
        { methods: [`/${NOTES}/*`], scopes: ["a"] },
      ],
    };
    assert.equal(
      configErrorKey(() => parseAuthConfig(dup)),
      "auth.rules[1].methods[0]",
    );
    const bad = { issuers, rules: [{ methods: [`${NOTES}.GetNote`], policy: "public" }] };
    assert.equal(
      configErrorKey(() => parseAuthConfig(bad)),
      "auth.rules[0].methods[0]",
    );
  });
});
