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
    assert.equal(router.route("demo.notes.v1.NotesService"), "notes");
    assert.equal(router.route("other.Service"), "fallback");
  });
  it("answers unknown_service (12) when nothing matches", () => {
    const strict = createRouter([{ services: ["a.B"], target: 1 }]);
    assert.throws(
      () => strict.route("c.D"),
      (e: unknown) => e instanceof GatewayError && e.reason === "unknown_service" && e.code === 12,
    );
  });
});
