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
