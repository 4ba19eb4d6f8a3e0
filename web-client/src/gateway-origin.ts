/**
 * Where a token may go. A token is sent only to the gateway's own origin, and
 * only over https, except to loopback hosts (a gateway on the developer's
 * machine): a token on plain http to anywhere else can be read on the way.
 */

/** RFC 6761 `localhost`, 127.0.0.0/8 and [::1]. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * The origin a gateway base URL names; throws a TypeError that says what to
 * change when it is not absolute, or http:// to a non-loopback host.
 */
export function gatewayOrigin(baseUrl: string, relativeTo?: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl, relativeTo);
  } catch {
    throw new TypeError(`grpc-edge: baseUrl ${JSON.stringify(baseUrl)} is not a URL`);
  }
  if (url.protocol === "https:") return url.origin;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return url.origin;
  throw new TypeError(
    url.protocol === "http:"
      ? `grpc-edge: refusing to send tokens to ${url.origin} over plain http; use https:// (http:// is allowed only for localhost, 127.0.0.0/8 and [::1])`
      : `grpc-edge: baseUrl must be an https:// URL, not ${url.protocol}`,
  );
}

/** The page's own URL, when there is a page (relative base URLs resolve against it). */
export function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}
