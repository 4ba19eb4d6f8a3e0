/**
 * @grpc-edge/web-client: OIDC login and always-fresh bearer tokens on every
 * gRPC-Web call through a grpc-edge gateway.
 */
export {
  type Auth,
  type AuthOptions,
  createAuth,
  type LoginOptions,
  type LogoutOptions,
} from "./auth.ts";
export {
  type AccessTokenSource,
  type AuthInterceptorOptions,
  createAuthInterceptor,
  type DpopProofRequest,
} from "./auth-interceptor.ts";
export type { AuthState, AuthStatus } from "./auth-state.ts";
export { gatewayReason, requiredScopes } from "./gateway-error.ts";
export { createGatewayTransport, type GatewayTransportOptions } from "./gateway-transport.ts";
export { LoginRequiredError } from "./login-required-error.ts";
