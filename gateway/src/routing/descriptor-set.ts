/**
 * The optional `descriptorSet` (a buf image / FileDescriptorSet, as written
 * by `buf build -o image.binpb` or `protoc --descriptor_set_out`). Only
 * service and method names are needed: to check policy rules at start-up and
 * to let routing answer 12 UNIMPLEMENTED for a method the schema lacks.
 * Dependencies need not be included, so no registry is built.
 */
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorSet, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { ConfigError } from "../config/config-error.ts";

/** The services and methods of a descriptor set. */
export interface DescriptorIndex {
  hasService(name: string): boolean;
  /** `path` is `/<package.Service>/<Method>`. */
  hasMethod(path: string): boolean;
}

const HINT = "build one with `buf build -o image.binpb`";

/** Reads a FileDescriptorSet file; throws ConfigError("descriptorSet", …) if it is unusable. */
export function loadDescriptorSet(file: string): DescriptorIndex {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new ConfigError("descriptorSet", `cannot read ${file} (${code}); ${HINT}`);
  }
  let set: FileDescriptorSet;
  try {
    set = fromBinary(FileDescriptorSetSchema, bytes);
  } catch {
    throw new ConfigError("descriptorSet", `${file} is not a binary FileDescriptorSet; ${HINT}`);
  }
  return indexDescriptorSet(set, file);
}

/** Collects fully-qualified service names and `/<service>/<method>` paths. */
export function indexDescriptorSet(
  set: FileDescriptorSet,
  file = "the descriptor set",
): DescriptorIndex {
  if (set.file.length === 0 || set.file.some((f) => f.name === "")) {
    // Arbitrary bytes often decode as an empty message; do not accept them.
    throw new ConfigError("descriptorSet", `${file} holds no proto files; ${HINT}`);
  }
  const services = new Set<string>();
  const methods = new Set<string>();
  for (const f of set.file) {
    for (const s of f.service) {
      const service = f.package === "" ? s.name : `${f.package}.${s.name}`;
      services.add(service);
      for (const m of s.method) methods.add(`/${service}/${m.name}`);
    }
  }
  return {
    hasService: (name) => services.has(name),
    hasMethod: (path) => methods.has(path),
  };
}
