/** The token keeper's view of oidc-client-ts's stored User. */
import type { User } from "oidc-client-ts";
import type { TokenSet } from "./token-keeper.ts";

/** The access token's lifetime from its JWT `exp - iat`, if it is a JWT. */
function jwtLifetimeMs(token: string): number | undefined {
  try {
    const part = token.split(".")[1] ?? "";
    const claims = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    const lifetime = claims.exp - claims.iat;
    return Number.isFinite(lifetime) && lifetime > 0 ? lifetime * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function toTokens(user: User | null): TokenSet | null {
  if (user === null || !user.access_token) return null;
  return {
    accessToken: user.access_token,
    // No expires_in from the provider: never refreshed ahead, only after a 16.
    expiresAtMs: user.expires_at === undefined ? Number.POSITIVE_INFINITY : user.expires_at * 1000,
    lifetimeMs: jwtLifetimeMs(user.access_token),
    hasRefreshToken: Boolean(user.refresh_token),
  };
}
