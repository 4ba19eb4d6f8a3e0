import {
  IndexedDbDPoPStore,
  InMemoryWebStorage,
  type StateStore,
  type User,
  UserManager,
  type UserManagerSettings,
  WebStorageStateStore,
} from "oidc-client-ts";
import type { AccessTokenSource, DpopProofRequest } from "./auth-interceptor.ts";
import { type AuthState, stateOf } from "./auth-state.ts";
import { cleanCallbackUrl, currentPath } from "./callback-url.ts";
import { hasIndexedDb } from "./indexed-db.ts";
import { LoginRequiredError } from "./login-required-error.ts";
import { safeReturnTo } from "./return-to.ts";
import { SharedSessionStore } from "./shared-session-store.ts";
import { toTokens } from "./stored-session.ts";
import { createSubscribers } from "./subscribers.ts";
import { createTabLock, type Exclusive } from "./tab-lock.ts";
import { createTokenKeeper } from "./token-keeper.ts";

export interface AuthOptions {
  /** The OpenID provider's issuer URL (its discovery document is at `<authority>/.well-known/openid-configuration`). */
  readonly authority: string;
  readonly clientId: string;
  /** Where the provider sends the browser back with the code; that page calls handleRedirectCallback(). */
  readonly redirectUri: string;
  /** Where the provider sends the browser after logout. */
  readonly postLogoutRedirectUri?: string;
  /** Default `"openid offline_access"`; `offline_access` asks for a refresh token. */
  readonly scope?: string;
  /** RFC 8707 resource indicator(s): the audience of the access token. */
  readonly resource?: string | string[];
  /** Refresh when the token has less than this left; default 60 (capped at half its lifetime). */
  readonly refreshLeewaySeconds?: number;
  /**
   * Where the session is kept: `"shared"` (default: IndexedDB, every tab of
   * the origin shares it), `"session"` (sessionStorage: this tab only,
   * survives reloads) or `"memory"` (this page only). See the README on the
   * trade-offs.
   */
  readonly storage?: "shared" | "session" | "memory";
  /** Refresh in the background ahead of expiry (default true); tokens are checked on use either way. */
  readonly autoRefresh?: boolean;
  /**
   * Sender-constrained tokens (RFC 9449): a non-extractable P-256 key kept in
   * IndexedDB, the authorization code bound to it (`dpop_jkt`), and every
   * call sent as `authorization: DPoP <token>` with a fresh proof.
   */
  readonly dpop?: boolean;
  /** Extra authorization request parameters (e.g. Auth0's `audience`). */
  readonly extraQueryParams?: Record<string, string>;
  /** Anything else for oidc-client-ts's UserManager (applied last). */
  readonly userManagerSettings?: Partial<UserManagerSettings>;
}

export interface LoginOptions {
  /** Path (same origin) handleRedirectCallback returns; default the current page. */
  readonly returnTo?: string;
  readonly loginHint?: string;
  readonly extraQueryParams?: Record<string, string>;
}

export interface LogoutOptions {
  /** Visit the provider's end-session endpoint (default true); false signs out here only. */
  readonly redirect?: boolean;
}

export interface Auth extends AccessTokenSource {
  login(options?: LoginOptions): Promise<void>;
  handleRedirectCallback(url?: string): Promise<{ returnTo: string }>;
  getAccessToken(): Promise<string>;
  replaceAccessToken(rejected: string): Promise<string>;
  /** With `dpop: true` and a DPoP-bound token, a proof for one call (used by the interceptor). */
  dpopProof(request: DpopProofRequest): Promise<string | undefined>;
  /** Listens for signed-in / refreshed / signed-out / login-required, in this tab and the others. */
  subscribe(listener: (state: AuthState) => void): () => void;
  /** The session as it is now ("signed-in" or "signed-out"), for a first render. */
  getState(): Promise<AuthState>;
  logout(options?: LogoutOptions): Promise<void>;
  /** Stops timers and listeners (tests, or an app tearing down). */
  close(): void;
  /** The oidc-client-ts UserManager underneath, for what this API does not cover. */
  readonly userManager: UserManager;
}

function sessionStore(kind: AuthOptions["storage"]): StateStore {
  if (kind === "memory") return new WebStorageStateStore({ store: new InMemoryWebStorage() });
  if (kind === "session") return new WebStorageStateStore({ store: sessionStorage });
  return hasIndexedDb()
    ? new SharedSessionStore()
    : new WebStorageStateStore({ store: localStorage });
}

/**
 * OIDC login (authorization code + PKCE through oidc-client-ts) and an access
 * token that is always fresh: checked on use, refreshed ahead of expiry, one
 * refresh at a time within a tab and across the tabs of an origin.
 */
export function createAuth(options: AuthOptions): Auth {
  const shared = options.storage === undefined || options.storage === "shared";
  const resource = options.resource === undefined ? {} : { resource: options.resource };
  const userManager = new UserManager({
    authority: options.authority,
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    ...(options.postLogoutRedirectUri
      ? { post_logout_redirect_uri: options.postLogoutRedirectUri }
      : {}),
    response_type: "code",
    scope: options.scope ?? "openid offline_access",
    ...resource,
    ...(options.extraQueryParams ? { extraQueryParams: options.extraQueryParams } : {}),
    userStore: sessionStore(options.storage),
    ...(options.dpop
      ? { dpop: { store: new IndexedDbDPoPStore(), bind_authorization_code: true } }
      : {}),
    // Refresh is ours (coordinated across tabs); oidc-client-ts's own timer is not.
    automaticSilentRenew: false,
    monitorSession: false,
    loadUserInfo: false,
    ...options.userManagerSettings,
  });
  const scope = `${options.authority}:${options.clientId}`;
  const exclusive: Exclusive = shared
    ? createTabLock(`grpc-edge.refresh:${scope}`)
    : (task) => task();
  const subscribers = createSubscribers<AuthState>();
  // The other tabs of the origin hear of every change to the shared session.
  const tabs =
    shared && typeof BroadcastChannel !== "undefined"
      ? new BroadcastChannel(`grpc-edge.session:${scope}`)
      : undefined;
  /** Tells this tab's subscribers and the other tabs. */
  const announce = (state: AuthState) => {
    subscribers.emit(state);
    tabs?.postMessage(state);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const keeper = createTokenKeeper({
    source: {
      load: async () => toTokens(await userManager.getUser()),
      async refresh() {
        const tokens = toTokens(await userManager.signinSilent(resource));
        if (tokens === null) throw new LoginRequiredError("login_required");
        return tokens;
      },
    },
    leewayMs: (options.refreshLeewaySeconds ?? 60) * 1000,
    now: Date.now,
    exclusive,
    async onRefreshed() {
      announce(stateOf("refreshed", await userManager.getUser()));
      void schedule();
    },
    onLoginRequired(error) {
      // This tab hears it before the call that found it rejects; the other
      // tabs once the dead session is gone from the shared store.
      const state: AuthState = { status: "login-required", reason: error.reason };
      subscribers.emit(state);
      void userManager.removeUser().finally(() => tabs?.postMessage(state));
    },
  });

  /** Background refresh: wakes when the token is due, checks it like any caller. */
  async function schedule(): Promise<void> {
    const tokens = options.autoRefresh === false ? null : toTokens(await userManager.getUser());
    // Cleared after the read: concurrent calls leave one timer, the last one's.
    clearTimeout(timer);
    timer = undefined;
    if (
      closed ||
      tokens === null ||
      !tokens.hasRefreshToken ||
      !Number.isFinite(tokens.expiresAtMs)
    ) {
      return;
    }
    const dueAt = Math.max(keeper.refreshDueAtMs(tokens), keeper.retryAtMs());
    timer = setTimeout(
      () => {
        keeper.getAccessToken().then(schedule, () => {
          if (keeper.retryAtMs() > Date.now()) void schedule();
        });
      },
      Math.max(1000, dueAt - Date.now()),
    );
  }

  /** Another tab changed the shared session. */
  const onOtherTab = ({ data: state }: MessageEvent<AuthState>) => {
    if (state.status === "signed-out" || state.status === "login-required") {
      clearTimeout(timer);
      keeper.end(new LoginRequiredError(state.reason ?? "signed_out"));
    } else {
      keeper.reset();
      void schedule();
    }
    subscribers.emit(state);
  };
  tabs?.addEventListener("message", onOtherTab);
  void schedule();

  return {
    userManager,
    async login(login = {}) {
      await userManager.signinRedirect({
        state: { returnTo: safeReturnTo(login.returnTo ?? currentPath()) },
        ...(login.loginHint ? { login_hint: login.loginHint } : {}),
        ...(login.extraQueryParams ? { extraQueryParams: login.extraQueryParams } : {}),
      });
    },
    async handleRedirectCallback(url = location.href) {
      try {
        const user = await userManager.signinRedirectCallback(url);
        keeper.reset();
        announce(stateOf("signed-in", user));
        void schedule();
        return {
          returnTo: safeReturnTo((user.state as { returnTo?: unknown } | undefined)?.returnTo),
        };
      } catch (err) {
        const code = (err as { error?: unknown }).error;
        throw new LoginRequiredError(
          typeof code === "string" ? code : "callback_failed",
          `login failed: ${err instanceof Error ? err.message : String(err)}`,
          err,
        );
      } finally {
        if (url === location.href) cleanCallbackUrl();
      }
    },
    getAccessToken: () => keeper.getAccessToken(),
    replaceAccessToken: (rejected) => keeper.replaceAccessToken(rejected),
    async dpopProof({ url, method, accessToken, nonce }) {
      if (!options.dpop) return undefined;
      const user = await userManager.getUser();
      // A token the provider did not bind (token_type Bearer) goes as Bearer.
      if (user?.token_type?.toLowerCase() !== "dpop") return undefined;
      return userManager.dpopProof(url, { access_token: accessToken } as User, method, nonce);
    },
    subscribe: (listener) => subscribers.add(listener),
    async getState() {
      const user = await userManager.getUser();
      return stateOf(user === null ? "signed-out" : "signed-in", user);
    },
    async logout(logout = {}) {
      clearTimeout(timer);
      keeper.end(new LoginRequiredError("signed_out"));
      const metadata = await userManager.metadataService.getMetadata().catch(() => undefined);
      // Under the refresh lock: no other tab redeems the refresh token while
      // it is revoked (the provider would refuse it) or after it is gone.
      const user = await exclusive(async () => {
        const current = await userManager.getUser();
        // Revoke the refresh token so a copy of it is useless; a failure must not block logout.
        if (current?.refresh_token && metadata?.revocation_endpoint) {
          await userManager.revokeTokens(["refresh_token"]).catch(() => undefined);
        }
        await userManager.removeUser();
        return current;
      });
      announce({ status: "signed-out" });
      if (logout.redirect === false) return;
      if (metadata?.end_session_endpoint) {
        await userManager.signoutRedirect(user?.id_token ? { id_token_hint: user.id_token } : {});
      } else if (options.postLogoutRedirectUri) {
        location.assign(options.postLogoutRedirectUri);
      }
    },
    close() {
      closed = true;
      clearTimeout(timer);
      tabs?.close();
    },
  };
}
