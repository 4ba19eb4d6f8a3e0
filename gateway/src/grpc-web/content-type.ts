/**
 * gRPC-Web content types (PROTOCOL-WEB.md): which variant a request uses and
 * what the upstream and the browser get instead. Parsed case-insensitively,
 * parameters ignored (DESIGN.md protocol checklist, item 1).
 */

export interface WebProtocol {
  /** grpc-web-text: bodies are base64 both ways. */
  readonly text: boolean;
  /** The content-type sent upstream: application/grpc[+proto|+json]. */
  readonly upstreamContentType: string;
  /** The content-type answered to the browser. */
  readonly responseContentType: string;
}

const protocols = new Map<string, WebProtocol>();
for (const [web, text] of [
  ["application/grpc-web", false],
  ["application/grpc-web-text", true],
] as const) {
  for (const suffix of ["", "+proto", "+json"]) {
    if (text && suffix === "+json") continue; // grpc-web-text+json is not a gRPC-Web type
    protocols.set(`${web}${suffix}`, {
      text,
      upstreamContentType: `application/grpc${suffix}`,
      responseContentType: `${web}${suffix === "" ? "+proto" : suffix}`,
    });
  }
}

/** Every gRPC-Web content type, without parameters. */
export const WEB_CONTENT_TYPES: readonly string[] = [...protocols.keys()];

/** The protocol of a request, or undefined when it is not gRPC-Web (→ 415). */
export function parseWebContentType(contentType: string | undefined): WebProtocol | undefined {
  if (contentType === undefined) return undefined;
  const exact = protocols.get(contentType);
  if (exact !== undefined) return exact;
  const semi = contentType.indexOf(";");
  const bare = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return protocols.get(bare);
}

/**
 * Whether the browser asked for a text response through `accept` even though
 * it sent binary (grpc-web spec: the response uses the request's encoding
 * unless accept says otherwise).
 */
export function acceptsTextOnly(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const lower = accept.toLowerCase();
  return (
    lower.includes("application/grpc-web-text") && !/application\/grpc-web(?!-text)/.test(lower)
  );
}

/** Whether a content-type from the upstream is gRPC (application/grpc[+...]). */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const lower = contentType.toLowerCase();
  return (
    lower.startsWith("application/grpc") &&
    (lower.length === 16 || lower[16] === "+" || lower[16] === ";")
  );
}
