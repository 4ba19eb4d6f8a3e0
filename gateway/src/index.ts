/** Programmatic API of @grpc-edge/gateway. */
export type { AuthConfig } from "./auth/auth-config.ts";
export {
  type GatewayConfig,
  loadConfig,
  type UpstreamConfig,
  validateConfig,
} from "./config/config.ts";
export { ConfigError } from "./config/config-error.ts";
export { GRPC_WEB_ALLOWED_HEADERS, GRPC_WEB_EXPOSED_HEADERS } from "./edge/cors.ts";
export { type GrpcWebGatewayState, grpcWebGateway } from "./edge/plugin.ts";
export { GatewayError, type Reason, reasons } from "./errors.ts";
export { createGateway, type Gateway, type GatewayOptions } from "./gateway.ts";
export { Code } from "./grpc-web/grpc-status.ts";
