import { Code, ConnectError } from "@connectrpc/connect";
import { LoginRequiredError } from "./login-required-error.ts";
import { finalRefreshError } from "./refresh-error.ts";

/** What the keeper needs to know of a stored session. */
export interface TokenSet {
  readonly accessToken: string;
  /** When the access token expires, in ms since the epoch (the local clock's reading). */
  readonly expiresAtMs: number;
  /** How long the token was issued for, when known (a JWT's `exp - iat`). */
  readonly lifetimeMs?: number | undefined;
  readonly hasRefreshToken: boolean;
}

export interface TokenSource {
  /** The session as stored now (shared by the tabs of an origin), or null. */
  load(): Promise<TokenSet | null>;
  /** Redeems the stored refresh token at the provider and stores what it returns. */
  refresh(): Promise<TokenSet>;
}

export interface TokenKeeperOptions {
  readonly source: TokenSource;
  /** A token is refreshed when it has less than this left (capped at half its lifetime). */
  readonly leewayMs: number;
  readonly now: () => number;
  /** Runs `task` while no other tab of the origin runs one (see tab-lock.ts). */
  readonly exclusive: <T>(task: () => Promise<T>) => Promise<T>;
  /** Backoff after a passing refresh failure: first delay, doubled up to max. */
  readonly retryFirstMs?: number;
  readonly retryMaxMs?: number;
  /** This tab redeemed the refresh token and got `tokens`. */
  readonly onRefreshed?: (tokens: TokenSet) => void;
  /** The session ended for good; called once until `reset`. */
  readonly onLoginRequired?: (error: LoginRequiredError) => void;
}

export interface TokenKeeper {
  /** A token valid for at least the leeway, refreshing first if needed. */
  getAccessToken(): Promise<string>;
  /**
   * The gateway refused `rejected`. Refreshes unless the current token is
   * already another one (someone refreshed meanwhile); returns the token to retry with.
   */
  replaceAccessToken(rejected: string): Promise<string>;
  /** When the current token should be refreshed, for a background timer. */
  refreshDueAtMs(tokens: TokenSet): number;
  /** When a failed refresh may be tried again (0 when nothing failed). */
  retryAtMs(): number;
  /** The session ended elsewhere (another tab, a logout): calls reject with `error` until `reset`. */
  end(error: LoginRequiredError): void;
  /** A new session began: forget the end and the backoff. */
  reset(): void;
}

export function createTokenKeeper(options: TokenKeeperOptions): TokenKeeper {
  const { source, now } = options;
  const retryFirstMs = options.retryFirstMs ?? 1000;
  const retryMaxMs = options.retryMaxMs ?? 60_000;
  let ended: LoginRequiredError | undefined;
  let inflight: Promise<TokenSet> | undefined;
  let retryAt = 0;
  let retryDelayMs = 0;
  let lastFailure: unknown;

  const leewayFor = (t: TokenSet) =>
    t.lifetimeMs === undefined ? options.leewayMs : Math.min(options.leewayMs, t.lifetimeMs / 2);
  const dueAt = (t: TokenSet) => t.expiresAtMs - leewayFor(t);
  const fresh = (t: TokenSet) => now() < dueAt(t);

  /** A refresh failed for good here: latch it and tell the listener once. */
  function fail(error: LoginRequiredError): void {
    if (ended !== undefined) return;
    ended = error;
    options.onLoginRequired?.(error);
  }

  function retryLater(cause: unknown): ConnectError {
    const seconds = Math.max(1, Math.ceil((retryAt - now()) / 1000));
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new ConnectError(
      `token refresh failed, next attempt in ${seconds}s: ${detail}`,
      Code.Unavailable,
      undefined,
      undefined,
      cause,
    );
  }

  async function redeem(stale: string): Promise<TokenSet> {
    if (now() < retryAt) throw retryLater(lastFailure);
    try {
      // Inside the lock the stored session is read again: when another tab
      // refreshed meanwhile its tokens are used, so a rotating refresh token
      // is redeemed exactly once.
      const [tokens, redeemed] = await options.exclusive(async () => {
        const current = await source.load();
        if (current === null) throw new LoginRequiredError("signed_out");
        if (current.accessToken !== stale && fresh(current)) return [current, false] as const;
        if (!current.hasRefreshToken) throw new LoginRequiredError("no_refresh_token");
        return [await source.refresh(), true] as const;
      });
      retryAt = 0;
      retryDelayMs = 0;
      if (redeemed) options.onRefreshed?.(tokens);
      return tokens;
    } catch (err) {
      const reason = err instanceof LoginRequiredError ? err.reason : finalRefreshError(err);
      if (reason !== undefined) {
        const error =
          err instanceof LoginRequiredError
            ? err
            : new LoginRequiredError(
                reason,
                `login required: the provider refused to refresh the session (${reason})`,
                err,
              );
        fail(error);
        throw ended ?? error;
      }
      // A passing failure: back off so that the token endpoint is not hammered.
      retryDelayMs = Math.min(retryMaxMs, retryDelayMs === 0 ? retryFirstMs : retryDelayMs * 2);
      retryAt = now() + retryDelayMs;
      lastFailure = err;
      throw retryLater(err);
    }
  }

  /** One refresh at a time in this tab: concurrent callers share it. */
  function refresh(stale: string): Promise<TokenSet> {
    inflight ??= redeem(stale).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  return {
    async getAccessToken() {
      if (ended !== undefined) throw ended;
      const current = await source.load();
      if (current === null) throw new LoginRequiredError("not_signed_in");
      if (fresh(current)) return current.accessToken;
      try {
        return (await refresh(current.accessToken)).accessToken;
      } catch (err) {
        // A passing failure while the token still works: use it meanwhile.
        if (!(err instanceof LoginRequiredError) && now() < current.expiresAtMs) {
          return current.accessToken;
        }
        throw err;
      }
    },
    async replaceAccessToken(rejected) {
      if (ended !== undefined) throw ended;
      return (await refresh(rejected)).accessToken;
    },
    refreshDueAtMs: dueAt,
    retryAtMs: () => retryAt,
    end(error) {
      ended ??= error;
    },
    reset() {
      ended = undefined;
      retryAt = 0;
      retryDelayMs = 0;
      lastFailure = undefined;
    },
  };
}
