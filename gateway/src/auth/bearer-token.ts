/**
 * Takes the access token out of the `authorization` metadata (RFC 6750 §2.1:
 * `Bearer <token68>`, scheme case-insensitive per RFC 9110 §11.1). Only the
 * header is read: tokens in query strings or bodies (§2.2, §2.3) are not
 * accepted. The token never appears in an error message.
 */
import { invalidRequestError, invalidTokenError, missingTokenError } from "./www-authenticate.ts";

/** RFC 9110 §11.2 token68; a compact JWS (base64url.base64url.base64url) is one. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Returns the bearer token; throws GatewayError missing_token,
 * malformed_token or token_too_large with the matching challenge.
 */
export function extractBearerToken(
  header: string | readonly string[] | undefined,
  maxTokenBytes: number,
): string {
  let value: string | undefined;
  if (Array.isArray(header)) {
    if (header.length > 1) {
      throw invalidRequestError("malformed_token", "send exactly one authorization header");
    }
    value = header[0];
  } else {
    value = header as string | undefined;
  }
  if (value === undefined || value.trim() === "") {
    throw missingTokenError("the method requires a bearer token in the authorization metadata");
  }
  const trimmed = value.trim();
  const space = trimmed.search(/[ \t]/);
  const scheme = space === -1 ? trimmed : trimmed.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") {
    const dpop = scheme.toLowerCase() === "dpop" ? " (DPoP is not supported yet)" : "";
    throw missingTokenError(`the authorization scheme must be Bearer${dpop}`);
  }
  const token = space === -1 ? "" : trimmed.slice(space + 1).trim();
  if (token === "") {
    throw invalidRequestError("malformed_token", "the Bearer scheme has no token");
  }
  // Size first: the later checks are linear, but the limit is the cheapest answer.
  if (Buffer.byteLength(token, "latin1") > maxTokenBytes) {
    throw invalidTokenError(
      "token_too_large",
      `the token is longer than auth.maxTokenBytes (${maxTokenBytes})`,
    );
  }
  if (/[ \t]/.test(token)) {
    throw invalidRequestError("malformed_token", "send exactly one token after Bearer");
  }
  if (!TOKEN68.test(token)) {
    throw invalidTokenError("malformed_token", "the token has characters a JWT cannot contain");
  }
  return token;
}
