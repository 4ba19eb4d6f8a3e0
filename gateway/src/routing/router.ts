/**
 * Routing (pipeline step 3): `/<package.Service>/<Method>` → the upstream
 * that lists the service. Exact service names win over the "*" catch-all;
 * an unknown service, or with a descriptor set a method it lacks, is
 * refused without contacting any upstream.
 */
import { GatewayError } from "../errors.ts";
import type { DescriptorIndex } from "./descriptor-set.ts";

export interface MethodPath {
  readonly path: string;
  readonly service: string;
  readonly method: string;
}

/** Splits a request path; throws bad_path when it is not /pkg.Service/Method. */
export function parseMethodPath(url: string): MethodPath {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const slash = path.indexOf("/", 1);
  if (
    path.charCodeAt(0) !== 0x2f ||
    slash <= 1 ||
    slash === path.length - 1 ||
    path.indexOf("/", slash + 1) !== -1
  ) {
    throw new GatewayError(
      "bad_path",
      `"${path.slice(0, 200)}" is not /<package.Service>/<Method>`,
    );
  }
  return { path, service: path.slice(1, slash), method: path.slice(slash + 1) };
}

export interface Router<T> {
  /** The target for a method; throws GatewayError unknown_service or unknown_method. */
  route(method: MethodPath): T;
}

/** Builds the service table once; lookups are one Map access (two with a descriptor set). */
export function createRouter<T>(
  entries: ReadonlyArray<{ readonly services: readonly string[]; readonly target: T }>,
  descriptors?: DescriptorIndex,
): Router<T> {
  const exact = new Map<string, T>();
  let fallback: T | undefined;
  for (const { services, target } of entries) {
    for (const service of services) {
      if (service === "*") fallback ??= target;
      else if (!exact.has(service)) exact.set(service, target);
    }
  }
  return {
    route({ path, service }) {
      const target = exact.get(service) ?? fallback;
      if (target === undefined) {
        throw new GatewayError("unknown_service", `no upstream serves ${service.slice(0, 200)}`);
      }
      if (descriptors !== undefined && !descriptors.hasMethod(path)) {
        throw new GatewayError(
          "unknown_method",
          `${path.slice(0, 200)} is not in the descriptor set`,
        );
      }
      return target;
    },
  };
}
