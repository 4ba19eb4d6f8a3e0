import type { Transport } from "@connectrpc/connect";
import { createGrpcWebTransport, type GrpcWebTransportOptions } from "@connectrpc/connect-web";
import { type AccessTokenSource, createAuthInterceptor } from "./auth-interceptor.ts";

export interface GatewayTransportOptions extends GrpcWebTransportOptions {
  /** Where tokens come from: the `Auth` of createAuth, or any AccessTokenSource. */
  readonly auth: AccessTokenSource;
}

/**
 * connect-web's gRPC-Web transport (binary format) for a grpc-edge gateway,
 * with the auth interceptor innermost: your interceptors run once per call,
 * and a retry after a refreshed token does not run them again.
 */
export function createGatewayTransport({ auth, ...options }: GatewayTransportOptions): Transport {
  const interceptors = [
    ...(options.interceptors ?? []),
    createAuthInterceptor(auth, { baseUrl: options.baseUrl }),
  ];
  return createGrpcWebTransport({ ...options, interceptors });
}
