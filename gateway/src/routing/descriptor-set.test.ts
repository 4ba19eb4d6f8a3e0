import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { configErrorKey } from "../../test/support/config-error.ts";
import { loadDescriptorSet } from "./descriptor-set.ts";

const dir = mkdtempSync(join(tmpdir(), "descriptor-set-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe("loadDescriptorSet", () => {
  it("indexes services and methods, with and without a package", () => {
    const set = create(FileDescriptorSetSchema, {
      file: [
        {
          name: "a.proto",
          package: "demo.v1",
          service: [{ name: "Notes", method: [{ name: "Get" }, { name: "Put" }] }],
        },
        { name: "b.proto", service: [{ name: "Bare", method: [{ name: "Call" }] }] },
      ],
    });
    const index = loadDescriptorSet(write("set.binpb", toBinary(FileDescriptorSetSchema, set)));
    assert.ok(index.hasService("demo.v1.Notes"));
    assert.ok(index.hasMethod("/demo.v1.Notes/Put"));
    assert.ok(index.hasMethod("/Bare/Call"));
    assert.ok(!index.hasMethod("/demo.v1.Notes/Delete"));
    assert.ok(!index.hasService("demo.v1.Note"));
  });

  it("an unreadable, empty or non-descriptor file is a ConfigError on descriptorSet", () => {
    assert.equal(
      configErrorKey(() => loadDescriptorSet(join(dir, "missing.binpb"))),
      "descriptorSet",
    );
    assert.equal(
      configErrorKey(() => loadDescriptorSet(write("empty.binpb", new Uint8Array()))),
      "descriptorSet",
    );
    assert.equal(
      configErrorKey(() =>
        loadDescriptorSet(write("text.binpb", new TextEncoder().encode('syntax = "proto3";\n'))),
      ),
      "descriptorSet",
    );
  });
});
