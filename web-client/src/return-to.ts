/**
 * The path to return to after login. Only a same-origin path is accepted
 * (`/notes?x`), never `//host` or a full URL: the state round-trips through
 * the provider, and following a URL from it would be an open redirect.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/")) return "/";
  if (value.startsWith("//") || value.startsWith("/\\")) return "/";
  return value;
}

export function currentPath(): string {
  return `${location.pathname}${location.search}${location.hash}`;
}

/** Authorization response parameters (RFC 6749 §4.1.2, RFC 9207 `iss`). */
const callbackParams = [
  "code",
  "state",
  "session_state",
  "iss",
  "error",
  "error_description",
  "error_uri",
];

/** Removes the authorization response from the address bar (and history), keeping the rest. */
export function cleanCallbackUrl(): void {
  const url = new URL(location.href);
  for (const name of callbackParams) url.searchParams.delete(name);
  history.replaceState(history.state, "", `${url.pathname}${url.search}${url.hash}`);
}
