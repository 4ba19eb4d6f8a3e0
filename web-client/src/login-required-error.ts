import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The user must log in again: there is no session, it was signed out, or the
 * provider refused to refresh it for good (`invalid_grant`, `login_required`).
 * A ConnectError with code 16 UNAUTHENTICATED, `name` "LoginRequiredError"
 * and a `reason`.
 */
export class LoginRequiredError extends ConnectError {
  override name = "LoginRequiredError";
  /**
   * Why: `not_signed_in`, `signed_out`, `no_refresh_token`, `callback_failed`,
   * or the provider's OAuth error code (`invalid_grant`, `login_required`, ...).
   */
  readonly reason: string;

  constructor(reason: string, message = `login required (${reason})`, cause?: unknown) {
    super(message, Code.Unauthenticated, undefined, undefined, cause);
    this.reason = reason;
    // connect passes an error thrown in an interceptor through unchanged only
    // if its prototype is ConnectError's own (ConnectError.from); any other
    // error is wrapped in a new one. Keeping that prototype makes a call reject
    // with this very object; `instanceof LoginRequiredError` is answered below
    // by shape, as connect answers `instanceof ConnectError`.
    Object.setPrototypeOf(this, ConnectError.prototype);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      value instanceof Error &&
      value.name === "LoginRequiredError" &&
      typeof (value as { reason?: unknown }).reason === "string"
    );
  }
}
