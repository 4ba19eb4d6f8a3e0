/** Programmatic API of @grpc-edge/gateway. */
export { type GatewayConfig, loadConfig, type UpstreamConfig, validateConfig } from "./config.ts";
export { ConfigError } from "./config-error.ts";
export { GatewayError, type Reason, reasons } from "./errors.ts";
export { Code } from "./grpc-status.ts";
export { createGateway, type Gateway, type GatewayOptions } from "./server.ts";
