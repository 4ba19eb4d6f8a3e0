/** Programmatic API of @grpc-edge/gateway. */
export type { AuthConfig } from "./auth/auth-config.ts";
export {
  type GatewayConfig,
  loadConfig,
  type UpstreamConfig,
  validateConfig,
} from "./config/config.ts";
export { ConfigError } from "./config/config-error.ts";
export { type GrpcWebGatewayState, grpcWebGateway } from "./edge/plugin.ts";
export { GatewayError, type Reason, reasons } from "./errors.ts";
export { createGateway, type Gateway, type GatewayOptions } from "./gateway.ts";
export { Code } from "./grpc-web/grpc-status.ts";
