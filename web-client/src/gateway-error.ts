import { ConnectError } from "@connectrpc/connect";

/**
 * The gateway's reason code for a call it refused (`insufficient_scope`,
 * `token_expired`, ...), read from the `grpc-edge-reason` header or trailer,
 * else from the `<reason>: <words>` form of its grpc-message. Undefined for
 * errors the gateway did not make (e.g. the upstream's own).
 */
export function gatewayReason(error: unknown): string | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  const header = error.metadata.get("grpc-edge-reason");
  if (header) return header;
  return /^([a-z][a-z0-9_]*): /.exec(error.rawMessage)?.[1];
}

/**
 * The scopes a refused call needed (`insufficient_scope`), from the gateway's
 * RFC 6750 `www-authenticate: Bearer ..., scope="a b"`; [] when none are named.
 */
export function requiredScopes(error: unknown): string[] {
  if (!(error instanceof ConnectError)) return [];
  const challenge = error.metadata.get("www-authenticate") ?? "";
  const scope = /(?:^|[\s,])scope="([^"]*)"/.exec(challenge)?.[1];
  return scope ? scope.split(" ").filter(Boolean) : [];
}
