/**
 * Takes the access token out of the `authorization` metadata: `Bearer
 * <token68>` (RFC 6750 §2.1) or, with DPoP on, `DPoP <token68>` (RFC 9449
 * §7.1); the scheme is case-insensitive (RFC 9110 §11.1). Only the header is
 * read: tokens in query strings or bodies (RFC 6750 §2.2, §2.3) are not
 * accepted. The token never appears in an error message.
 */
import type { DpopConfig } from "./dpop-config.ts";
import {
  bearerChallenge,
  dpopChallenge,
  invalidRequestError,
  invalidTokenError,
  missingTokenError,
} from "./www-authenticate.ts";

export interface AccessToken {
  readonly scheme: "Bearer" | "DPoP";
  readonly token: string;
}

/** RFC 9110 §11.2 token68; a compact JWS (base64url.base64url.base64url) is one. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The challenges of a 16 without credentials: the schemes this gateway accepts. */
export function challengesFor(dpop: Pick<DpopConfig, "mode" | "algorithms">): string {
  if (dpop.mode === "off") return bearerChallenge();
  const challenge = dpopChallenge(dpop.algorithms);
  return dpop.mode === "required" ? challenge : `${bearerChallenge()}, ${challenge}`;
}

/**
 * Returns the scheme and token; throws GatewayError missing_token,
 * malformed_token or token_too_large with the matching challenge.
 */
export function parseAuthorization(
  header: string | readonly string[] | undefined,
  maxTokenBytes: number,
  dpop: Pick<DpopConfig, "mode" | "algorithms">,
): AccessToken {
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
    throw missingTokenError(
      "the method requires a bearer token in the authorization metadata",
      challengesFor(dpop),
    );
  }
  const trimmed = value.trim();
  const space = trimmed.search(/[ \t]/);
  const scheme = space === -1 ? trimmed : trimmed.slice(0, space);
  const name = scheme.toLowerCase();
  if (name !== "bearer" && (name !== "dpop" || dpop.mode === "off")) {
    const why = name === "dpop" ? " (DPoP is off on this gateway: auth.dpop.mode)" : "";
    throw missingTokenError(
      `the authorization scheme must be ${dpop.mode === "off" ? "Bearer" : "Bearer or DPoP"}${why}`,
      challengesFor(dpop),
    );
  }
  const canonical = name === "dpop" ? "DPoP" : "Bearer";
  const token = space === -1 ? "" : trimmed.slice(space + 1).trim();
  if (token === "") {
    throw invalidRequestError("malformed_token", `the ${canonical} scheme has no token`);
  }
  // Size first: the later checks are linear, but the limit is the cheapest answer.
  if (Buffer.byteLength(token, "latin1") > maxTokenBytes) {
    throw invalidTokenError(
      "token_too_large",
      `the token is longer than auth.maxTokenBytes (${maxTokenBytes})`,
    );
  }
  if (/[ \t]/.test(token)) {
    throw invalidRequestError("malformed_token", `send exactly one token after ${canonical}`);
  }
  if (!TOKEN68.test(token)) {
    throw invalidTokenError("malformed_token", "the token has characters a JWT cannot contain");
  }
  return { scheme: canonical, token };
}
