import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../config/config-error.ts";
import {
  checkRulesAgainstDescriptors,
  compilePolicy,
  parseMethodPattern,
  type RuleConfig,
} from "./policy.ts";

const NOTES = "demo.notes.v1.NotesService";
const rules: RuleConfig[] = [
  { methods: ["/grpc.health.v1.Health/*"], policy: "public", scopes: [] },
  { methods: [`/${NOTES}/DeleteNote`], policy: "authenticated", scopes: ["notes:admin"] },
  { methods: [`/${NOTES}/*`], policy: "authenticated", scopes: [] },
];

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail("expected a ConfigError");
}

describe("parseMethodPattern", () => {
  it("accepts exact methods, service wildcards and *", () => {
    assert.deepEqual(parseMethodPattern(`/${NOTES}/GetNote`, "k"), {
      kind: "exact",
      path: `/${NOTES}/GetNote`,
      service: NOTES,
    });
    assert.deepEqual(parseMethodPattern(`/${NOTES}/*`, "k"), { kind: "service", service: NOTES });
    assert.deepEqual(parseMethodPattern("/Greeter/Hello", "k"), {
      kind: "exact",
      path: "/Greeter/Hello",
      service: "Greeter",
    });
    assert.deepEqual(parseMethodPattern("*", "k"), { kind: "any" });
  });

  it("rejects malformed paths, naming the key", () => {
    for (const bad of [
      `${NOTES}/GetNote`,
      `/${NOTES}`,
      `/${NOTES}/`,
      `/${NOTES}/Get*`,
      "/*/GetNote",
      `/${NOTES}/Get Note`,
      "/demo..notes/X",
      "**",
      `/${NOTES}/GetNote/`,
    ]) {
      assert.equal(
        configError(() => parseMethodPattern(bad, "auth.rules[0].methods[1]")).key,
        "auth.rules[0].methods[1]",
        bad,
      );
    }
  });
});

describe("compilePolicy: the most specific match wins", () => {
  const policy = compilePolicy(rules, "deny");
  it("exact beats Service/*", () => {
    assert.deepEqual(policy.decide(`/${NOTES}/DeleteNote`, NOTES), {
      kind: "authenticated",
      scopes: ["notes:admin"],
    });
    assert.deepEqual(policy.decide(`/${NOTES}/GetNote`, NOTES), {
      kind: "authenticated",
      scopes: [],
    });
  });
  it("Service/* for public", () => {
    assert.deepEqual(policy.decide("/grpc.health.v1.Health/Check", "grpc.health.v1.Health"), {
      kind: "public",
    });
  });
  it("no rule: the default policy", () => {
    assert.deepEqual(policy.decide("/other.Service/Call", "other.Service"), { kind: "deny" });
    assert.deepEqual(compilePolicy([], "authenticated").decide("/a.B/C", "a.B"), {
      kind: "authenticated",
      scopes: [],
    });
  });
  it("* beats the default, and rule order does not matter", () => {
    const p = compilePolicy(
      [{ methods: ["*"], policy: "public", scopes: [] } as RuleConfig, ...rules].reverse(),
      "deny",
    );
    assert.deepEqual(p.decide("/other.Service/Call", "other.Service"), { kind: "public" });
    assert.deepEqual(p.decide(`/${NOTES}/DeleteNote`, NOTES), {
      kind: "authenticated",
      scopes: ["notes:admin"],
    });
  });
  it("an explicit deny inside a public service", () => {
    const p = compilePolicy(
      [
        { methods: ["/a.S/*"], policy: "public", scopes: [] },
        { methods: ["/a.S/Admin"], policy: "deny", scopes: [] },
      ],
      "deny",
    );
    assert.deepEqual(p.decide("/a.S/Admin", "a.S"), { kind: "deny" });
  });
});

describe("compilePolicy: start-up errors", () => {
  it("duplicate rule entry → ConfigError naming the second occurrence", () => {
    const err = configError(() =>
      compilePolicy(
        [...rules, { methods: ["/x.Y/Z", `/${NOTES}/DeleteNote`], policy: "public", scopes: [] }],
        "deny",
      ),
    );
    assert.equal(err.key, "auth.rules[3].methods[1]");
    assert.match(err.message, /auth\.rules\[1\]\.methods\[0\]/);
  });
  it("duplicate inside one rule", () => {
    assert.equal(
      configError(() =>
        compilePolicy([{ methods: ["*", "*"], policy: "public", scopes: [] }], "deny"),
      ).key,
      "auth.rules[0].methods[1]",
    );
  });
  it("malformed method path → ConfigError naming the entry", () => {
    assert.equal(
      configError(() =>
        compilePolicy([{ methods: ["/a.B/C", "a.B/D"], policy: "public", scopes: [] }], "deny"),
      ).key,
      "auth.rules[0].methods[1]",
    );
  });
});

describe("checkRulesAgainstDescriptors", () => {
  const index = {
    hasService: (s: string) => s === NOTES || s === "grpc.health.v1.Health",
    hasMethod: (p: string) => p === `/${NOTES}/DeleteNote` || p === `/${NOTES}/GetNote`,
  };
  it("passes when every rule names something that exists", () => {
    checkRulesAgainstDescriptors(rules, index);
  });
  it("a method typo fails start-up with the key", () => {
    const typo: RuleConfig[] = [
      ...rules,
      { methods: [`/${NOTES}/DeleteNotes`], policy: "deny", scopes: [] },
    ];
    assert.equal(
      configError(() => checkRulesAgainstDescriptors(typo, index)).key,
      "auth.rules[3].methods[0]",
    );
  });
  it("a service typo fails start-up with the key", () => {
    const typo: RuleConfig[] = [
      { methods: ["/demo.notes.v1.NoteService/*"], policy: "public", scopes: [] },
    ];
    assert.equal(
      configError(() => checkRulesAgainstDescriptors(typo, index)).key,
      "auth.rules[0].methods[0]",
    );
  });
});
