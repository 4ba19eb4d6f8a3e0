/**
 * @grpc-edge/web-client: OIDC login and always-fresh bearer tokens on every
 * gRPC-Web call through a grpc-edge gateway.
 */
export {
  type Auth,
  type AuthOptions,
  type AuthState,
  type AuthStatus,
  createAuth,
  type LoginOptions,
  type LogoutOptions,
} from "./auth.ts";
export {
  type AccessTokenSource,
  type AuthInterceptorOptions,
  createAuthInterceptor,
} from "./auth-interceptor.ts";
export { gatewayReason, requiredScopes } from "./gateway-error.ts";
export { createGatewayTransport, type GatewayTransportOptions } from "./gateway-transport.ts";
export { LoginRequiredError } from "./login-required-error.ts";
