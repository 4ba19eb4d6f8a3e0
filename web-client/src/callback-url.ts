/** The page's address around a login: where it was, and the callback cleaned up. */

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
