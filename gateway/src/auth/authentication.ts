/**
 * Pipeline steps 4-5 (authenticate, authorize) as the call handler sees
 * them. With an `auth` section the auth module decides; without one every
 * method is allowed and start-up says so loudly (issue 2, item 10).
 */
import type { IncomingHttpHeaders } from "node:http";
import { resolve } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import type { Logger } from "pino";
import type { GatewayConfig } from "../config/config.ts";
import { ConfigError } from "../config/config-error.ts";
import { GatewayError } from "../errors.ts";
import type { MethodPath } from "../routing/router.ts";
import {
  createAuthStep,
  type DescriptorIndex,
  loadDescriptorSet,
  type Metadata,
  NO_METADATA,
  parseAuthConfig,
} from "./index.ts";

export interface CallAuthorizer {
  /** Throws unknown_method when a descriptor set is configured and lacks the method. */
  checkMethodExists(method: MethodPath): void;
  /**
   * Identity metadata for the upstream: at once for a public method or a
   * known token, a promise when the token must be verified first. Throws
   * (or rejects) with GatewayError.
   */
  check(
    method: MethodPath,
    headers: IncomingHttpHeaders,
    /** The browser's connection (socket or HTTP/2 session), for the per-connection token memo. */
    connection?: object,
  ): Promise<Metadata> | Metadata;
  close(): void;
}

export async function createCallAuthorizer(
  config: GatewayConfig,
  log: FastifyBaseLogger,
  onJwksFetch?: (issuer: string, ok: boolean) => void,
): Promise<CallAuthorizer> {
  let descriptors: DescriptorIndex | undefined;
  if (config.descriptorSet !== undefined && config.descriptorSet !== null) {
    if (typeof config.descriptorSet !== "string" || config.descriptorSet === "") {
      throw new ConfigError(
        "descriptorSet",
        "must be the path of a buf image / FileDescriptorSet (buf build -o image.binpb)",
      );
    }
    descriptors = loadDescriptorSet(resolve(config.baseDir, config.descriptorSet));
  }
  const checkMethodExists = (method: MethodPath) => {
    if (descriptors !== undefined && !descriptors.hasMethod(method.path)) {
      throw new GatewayError(
        "unknown_method",
        `${method.path.slice(0, 200)} is not in the descriptor set`,
      );
    }
  };
  if (config.auth === undefined || config.auth === null) {
    log.warn(
      "no `auth` section: every method is allowed without a token (configure auth before exposing this gateway)",
    );
    return { checkMethodExists, check: () => NO_METADATA, close() {} };
  }
  const step = await createAuthStep(
    parseAuthConfig(config.auth, config.descriptorSet, config.baseDir),
    { log: log as Logger, ...(onJwksFetch === undefined ? {} : { onJwksFetch }) },
  );
  return {
    checkMethodExists,
    check: (method, headers, connection) =>
      step.authorize(
        { path: method.path, service: method.service, method: method.method, headers },
        connection,
      ),
    close: () => step.close(),
  };
}
