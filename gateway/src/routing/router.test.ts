import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../errors.ts";
import { createRouter, parseMethodPath } from "./router.ts";

describe("parseMethodPath", () => {
  it("splits /package.Service/Method", () => {
    assert.deepEqual(parseMethodPath("/demo.notes.v1.NotesService/GetNote"), {
      path: "/demo.notes.v1.NotesService/GetNote",
      service: "demo.notes.v1.NotesService",
      method: "GetNote",
    });
  });
  it("rejects other paths with bad_path (12)", () => {
    for (const p of ["/", "/Svc", "/Svc/", "//M", "/a/b/c", "Svc/M"]) {
      assert.throws(
        () => parseMethodPath(p),
        (e: unknown) => e instanceof GatewayError && e.reason === "bad_path" && e.code === 12,
        p,
      );
    }
  });
});

describe("createRouter", () => {
  const router = createRouter([
    { services: ["demo.notes.v1.NotesService"], target: "notes" },
    { services: ["*"], target: "fallback" },
  ]);
  it("prefers exact names over the catch-all", () => {
    assert.equal(router.route(parseMethodPath("/demo.notes.v1.NotesService/GetNote")), "notes");
    assert.equal(router.route(parseMethodPath("/other.Service/Call")), "fallback");
  });
  it("answers unknown_service (12) when nothing matches", () => {
    const strict = createRouter([{ services: ["a.B"], target: 1 }]);
    assert.throws(
      () => strict.route(parseMethodPath("/c.D/M")),
      (e: unknown) => e instanceof GatewayError && e.reason === "unknown_service" && e.code === 12,
    );
  });
  it("answers unknown_method (12) for a method the descriptor set lacks", () => {
    const withSchema = createRouter([{ services: ["a.B"], target: 1 }], {
      hasService: (name) => name === "a.B",
      hasMethod: (path) => path === "/a.B/Known",
    });
    assert.equal(withSchema.route(parseMethodPath("/a.B/Known")), 1);
    assert.throws(
      () => withSchema.route(parseMethodPath("/a.B/Other")),
      (e: unknown) => e instanceof GatewayError && e.reason === "unknown_method" && e.code === 12,
    );
  });
});
