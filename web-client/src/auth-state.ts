/** What subscribers hear about the session, in this tab and the others. */
import type { User } from "oidc-client-ts";

export type AuthStatus = "signed-in" | "refreshed" | "signed-out" | "login-required";

export interface AuthState {
  readonly status: AuthStatus;
  /** The `sub` of the signed-in user. */
  readonly subject?: string;
  /** Scopes the provider granted. */
  readonly scopes?: readonly string[];
  /** When the current access token expires (ms since the epoch). */
  readonly expiresAtMs?: number;
  /** Why login is required (see LoginRequiredError.reason). */
  readonly reason?: string;
}

/** The state of `user` (null: signed out) under `status`. */
export function stateOf(status: AuthStatus, user: User | null): AuthState {
  if (user === null) return { status };
  return {
    status,
    subject: user.profile.sub,
    scopes: user.scope?.split(" ").filter(Boolean) ?? [],
    ...(user.expires_at === undefined ? {} : { expiresAtMs: user.expires_at * 1000 }),
  };
}
