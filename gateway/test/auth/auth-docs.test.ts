/**
 * docs/auth.md stays true to the code (as fastify fails a test when an error
 * is undocumented): every auth reason with its status and errors.ts advice,
 * and every auth config key.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { configKeys, type KeyNode } from "../../src/config/config-keys.ts";
import { authReasons, type Reason, reasons } from "../../src/errors.ts";

const doc = readFileSync(new URL("../../docs/auth.md", import.meta.url), "utf8");
const table = doc.slice(
  doc.indexOf("<!-- auth-reasons:start -->"),
  doc.indexOf("<!-- auth-reasons:end -->"),
);

/** Auth reasons, and unknown_method (the descriptor set is documented with auth). */
const AUTH_REASONS: readonly Reason[] = [...authReasons, "unknown_method"];

function keyPaths(node: KeyNode, prefix: string): string[] {
  if (node === "leaf") return [prefix];
  if (Array.isArray(node)) return keyPaths(node[0] as KeyNode, `${prefix}[]`);
  return Object.entries(node as Record<string, KeyNode>).flatMap(([k, child]) =>
    keyPaths(child, `${prefix}.${k}`),
  );
}

describe("docs/auth.md", () => {
  for (const reason of AUTH_REASONS) {
    it(`documents ${reason} with its status and the errors.ts advice`, () => {
      const row = table.split("\n").find((line) => line.startsWith(`| \`${reason}\` |`));
      assert.ok(row, `no row for ${reason}`);
      assert.ok(row.includes(`| ${reasons[reason].code} `), `wrong status for ${reason}`);
      assert.ok(
        row.includes(reasons[reason].advice),
        `the advice of ${reason} differs from errors.ts`,
      );
    });
  }

  it("documents every auth config key and descriptorSet", () => {
    const auth = (configKeys as Record<string, KeyNode>).auth as KeyNode;
    for (const key of [...keyPaths(auth, "auth"), "descriptorSet"]) {
      assert.ok(doc.includes(`| \`${key}\` |`), `${key} is missing from the config reference`);
    }
  });
});
