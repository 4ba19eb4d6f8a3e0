/** @grpc-edge/dev-idp: a development OpenID provider for the demo and the browser tests. */
export {
  type DevClient,
  type DevIdp,
  type DevIdpOptions,
  type DevUser,
  defaultResource,
  demoUsers,
  startDevIdp,
  type TokenStats,
} from "./dev-idp.ts";
